"""Every queue backend traced and counted the same way (issue 17), on its real stand-in."""

from __future__ import annotations

import time
import uuid
from typing import cast

from statekit.observability import semconv
from statekit.queue import Message, Queue
from statekit.queue.backend import QueueBackend
from statekit.registry import open_backend
from tests.conformance.queue.receiving import with_params
from tests.observability.telemetry_fixture import all_attribute_values, attrs, captured_telemetry

BODY_MARKER = "message-body-must-not-be-traced-9d41"


def test_messages_are_counted_by_what_happened_and_spans_follow_messaging_conventions(
    queue_url_template: str,
) -> None:
    url = with_params(
        queue_url_template.format(queue=f"q{uuid.uuid4().hex[:12]}"), max_attempts=None
    )
    for captured in captured_telemetry():
        queue = Queue(cast(QueueBackend, open_backend("queue", url))).provision()
        try:
            queue.send({"secret": BODY_MARKER})
            received: list[Message] = []
            deadline = time.monotonic() + 30
            while not received and time.monotonic() < deadline:
                received = queue.receive(1, wait=2)
            assert received, "the message came back"
            queue.ack(received[0])
        finally:
            queue.close()

        events = {
            a["statekit.queue.event"]: p.value
            for a, p in captured.points("statekit.queue.messages")
        }
        assert events == {"sent": 1, "received": 1, "acked": 1}
        spans = captured.spans()
        system = semconv.MESSAGING_SYSTEMS.get(queue.backend.name, queue.backend.name)
        assert {attrs(s)[semconv.MESSAGING_SYSTEM] for s in spans} == {system}
        kinds = {attrs(s)[semconv.MESSAGING_OPERATION_TYPE] for s in spans}
        assert {"send", "receive", "settle"} <= kinds
        ack = next(s for s in spans if attrs(s)[semconv.MESSAGING_OPERATION] == "ack")
        assert attrs(ack)[semconv.MESSAGING_MESSAGE_ID] == received[0].id
        assert not any(BODY_MARKER in value for value in all_attribute_values(spans))
