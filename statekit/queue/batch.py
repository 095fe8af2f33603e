"""Consumer helpers: run a function over a batch of messages and report failures
SQS-style (``batchItemFailures``), from a ``Queue`` or from a Lambda SQS event."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from statekit.errors import InvalidOption, StatekitError
from statekit.queue.messages import (
    DEFAULT_VISIBILITY_SECONDS,
    MAX_RECEIVE_MESSAGES,
    Message,
    decode_body,
)

if TYPE_CHECKING:
    from statekit.queue.facade import Queue

log = logging.getLogger("statekit.queue")


def _failures(ids: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    return {"batchItemFailures": [{"itemIdentifier": item} for item in ids]}


def process_batch(
    queue_or_messages: Queue | Iterable[Message],
    fn: Callable[[Message], object],
    *,
    max_messages: int = MAX_RECEIVE_MESSAGES,
    wait: float = 0,
    visibility: int = DEFAULT_VISIBILITY_SECONDS,
    release_failed: bool = False,
) -> dict[str, list[dict[str, str]]]:
    """Run ``fn`` over a batch; ack only what succeeded; return the failures SQS-style.

    Given a ``Queue``, receives one batch first. A message whose ``fn`` raised is
    left to come back after its visibility timeout (or released now with
    ``release_failed``), so its attempts rise toward the dead-letter queue. A
    message processed but not acked (its receipt ran out) is reported too: it
    will be delivered again.
    """
    from statekit.queue.facade import Queue  # the module that re-exports this one

    if isinstance(queue_or_messages, Queue):
        messages = queue_or_messages.receive(max_messages, wait=wait, visibility=visibility)
    else:
        messages = list(queue_or_messages)
    done: list[Message] = []
    failed: list[str] = []
    for message in messages:
        try:
            fn(message)
        except Exception:
            log.exception("message %s failed (attempt %s)", message.id, message.attempts)
            failed.append(message.id)
            if release_failed:
                try:
                    message.release()
                except StatekitError:
                    log.exception("release of message %s failed", message.id)
        else:
            done.append(message)
    by_queue: dict[int, list[Message]] = {}
    for message in done:
        by_queue.setdefault(id(message._owner("ack")), []).append(message)
    for group in by_queue.values():
        owner = group[0]._owner("ack")
        for message_id, error in owner.ack_many(group).items():
            log.warning("message %s processed but not acked: %s", message_id, error)
            failed.append(message_id)
    return _failures(failed)


def handle_sqs_event(
    event: Mapping[str, Any], fn: Callable[[Message], object]
) -> dict[str, list[dict[str, str]]]:
    """A Lambda handler body for an SQS event source mapping with ReportBatchItemFailures.

    Records in, ``batchItemFailures`` out; the mapping deletes the rest. From a FIFO
    queue, processing stops at the first failure and every later record is
    reported too, so a message group keeps its order (AWS's documented rule).
    """
    records = event.get("Records")
    if not isinstance(records, list):
        raise InvalidOption("an SQS event has a 'Records' list; this event has none")
    failed: list[str] = []
    stop = False
    for record in records:
        message_id = str(record["messageId"])
        if stop:
            failed.append(message_id)
            continue
        attributes = record.get("attributes") or {}
        message = Message(
            id=message_id,
            body=decode_body(record.get("body", "")),
            attempts=int(attributes.get("ApproximateReceiveCount", 1)),
            receipt=record.get("receiptHandle"),
        )
        try:
            fn(message)
        except Exception:
            log.exception("record %s failed (attempt %s)", message_id, message.attempts)
            failed.append(message_id)
            stop = str(record.get("eventSourceARN", "")).endswith(".fifo")
    return _failures(failed)
