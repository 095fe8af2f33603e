"""The queue's backend-free parts: URLs, the default, the Lambda SQS event helper."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from statekit.errors import InvalidOption, InvalidURL
from statekit.queue import Message, handle_sqs_event, open_queue, process_batch


def _record(
    message_id: str, body: str, receive_count: int = 1, arn: str = "arn:aws:sqs:us-east-1:1:q"
) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
    }


def _fail_on_odd(message: Message) -> None:
    if message.body["n"] % 2:
        raise ValueError("odd")


def test_sqs_event_reports_exactly_the_failed_records() -> None:
    event = {"Records": [_record(f"m{n}", f'{{"n": {n}}}', n + 1) for n in range(4)]}
    seen: list[tuple[Any, int]] = []

    def handler(message: Message) -> None:
        seen.append((message.body, message.attempts))
        _fail_on_odd(message)

    assert handle_sqs_event(event, handler) == {
        "batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]
    }
    assert seen == [({"n": n}, n + 1) for n in range(4)]


def test_fifo_event_stops_at_the_first_failure_and_reports_the_rest() -> None:
    arn = "arn:aws:sqs:us-east-1:1:orders.fifo"
    event = {"Records": [_record(f"m{n}", f'{{"n": {n}}}', arn=arn) for n in range(4)]}
    calls: list[int] = []

    def handler(message: Message) -> None:
        calls.append(message.body["n"])
        _fail_on_odd(message)

    result = handle_sqs_event(event, handler)
    assert calls == [0, 1]
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == ["m1", "m2", "m3"]


def test_event_messages_cannot_be_acked_by_hand() -> None:
    def handler(message: Message) -> None:
        message.ack()

    result = handle_sqs_event({"Records": [_record("m0", "1")]}, handler)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m0"}]}


def test_an_event_without_records_is_refused() -> None:
    with pytest.raises(InvalidOption, match="Records"):
        handle_sqs_event({"detail": {}}, lambda m: None)


def test_default_queue_is_the_embedded_file_under_statekit_home() -> None:
    queue = open_queue()
    assert queue.name == "sqlite"
    queue.send({"hello": "world"})
    home = Path(os.environ["STATEKIT_HOME"])
    assert (home / "queue.db").exists()
    [message] = queue.receive()
    assert message.body == {"hello": "world"}
    assert process_batch([message], lambda m: None) == {"batchItemFailures": []}
    assert queue.receive() == []


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("sqlite://?queu=x", "unknown query parameter 'queu'"),
        ("sqlite://?max_attempts=zero", "max_attempts must be an integer"),
        ("sqlite://?max_attempts=0", "from 1 to 1000"),
        ("kafka://broker/topic", "unknown scheme 'kafka'"),
    ],
)
def test_bad_queue_urls_name_what_is_wrong(url: str, text: str) -> None:
    with pytest.raises(InvalidURL, match=text):
        open_queue(url)
