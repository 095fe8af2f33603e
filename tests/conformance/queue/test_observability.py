"""Every queue backend traced and counted the same way (issue 17), on its real stand-in."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from statekit.observability import semconv
from statekit.queue import Message, Queue, open_queue
from statekit.queue.backend import QueueBackend
from statekit.registry import open_backend
from tests.conformance.fault import (
    restartable_cases,
    secrets_of,
    traced_own,
    traced_unavailable,
)
from tests.conformance.queue.conftest import QUEUE_CASES
from tests.conformance.queue.receiving import with_params
from tests.conformance.registry import Restartable
from tests.observability.telemetry_fixture import (
    Captured,
    all_attribute_values,
    attrs,
    captured_telemetry,
)

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


@pytest.fixture(params=restartable_cases(QUEUE_CASES))
def traced_own_queue(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Restartable, Queue, Captured]]:
    def provisioned(url: str) -> Queue:
        return open_queue(url).provision()

    yield from traced_own(QUEUE_CASES[request.param], tmp_path, monkeypatch, provisioned)


def test_an_unreachable_server_is_one_error_span_with_outcome_unavailable(
    traced_own_queue: tuple[Restartable, Queue, Captured],
) -> None:
    own, queue, captured = traced_own_queue
    queue.send("before")  # a connection made, then lost: what a warm function sees
    own.stop()
    span = traced_unavailable(
        captured,
        lambda: queue.send({"secret": BODY_MARKER}),
        block="queue",
        operation="send",
        secrets=[BODY_MARKER, *secrets_of(own.env)],
    )
    system = semconv.MESSAGING_SYSTEMS.get(queue.backend.name, queue.backend.name)
    assert attrs(span)[semconv.MESSAGING_SYSTEM] == system
    assert semconv.MESSAGING_MESSAGE_ID not in attrs(span)  # nothing was sent: no id
    sent = {
        a["statekit.queue.event"]: p.value for a, p in captured.points("statekit.queue.messages")
    }
    assert sent == {"sent": 1}  # the one before the stop; the failed send is not counted
