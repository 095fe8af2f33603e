"""The queue: one meaning of at-least-once messaging on every backend.

``open_queue(url)`` picks the backend from ``STATEKIT_QUEUE_URL`` (default: the
embedded SQLite file ``.statekit/queue.db``, queue ``default``). ``Queue`` holds
every shared rule (JSON bodies, the portable limits, dedup id syntax, capability
gates) and calls the backend's hooks (``statekit.backends.queue_base``).

Portable limits, the smallest of the services' (docs/queue.md):

* body: JSON-compatible, at most 49,152 bytes as UTF-8 JSON. Azure Queue Storage
  takes 64 KiB per message, and Azure Functions' queue trigger expects base64,
  which turns 48 KiB into 64 KiB. (SQS allows 256 KiB, Pub/Sub 10 MB.)
* visibility and extend: whole seconds, at most 600 (Pub/Sub's longest ack
  deadline; SQS allows 12 h, Azure 7 days). Long work calls ``extend``.
* delay: whole seconds, at most 900 (SQS's DelaySeconds), where declared.
* wait (long polling): at most 20 seconds (SQS's WaitTimeSeconds).
* max_messages per receive: at most 10 (SQS's ReceiveMessage).
* dedup id: 1 to 128 characters of ``A-Za-z0-9`` and ASCII punctuation (SQS's
  MessageDeduplicationId rule), where declared; the window is 5 minutes.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from statekit.backends.queue_base import (
    OutgoingRaw,
    QueueBackend,
    QueueCapability,
    QueueLimits,
    ReceiptExpired,
    ReceivedRaw,
)
from statekit.errors import InvalidOption, InvalidValue, StatekitError, Unsupported, ValueTooLarge
from statekit.urls import url_from_env

__all__ = [
    "InvalidMessage",
    "Message",
    "MessageTooLarge",
    "Outgoing",
    "Queue",
    "QueueCapability",
    "QueueLimits",
    "ReceiptExpired",
    "SendResult",
    "handle_sqs_event",
    "open_queue",
    "process_batch",
]

QUEUE_URL_VARIABLE = "STATEKIT_QUEUE_URL"
DEFAULT_QUEUE_URL = "sqlite://"

MAX_BODY_BYTES = 49_152
MAX_VISIBILITY_SECONDS = 600
MAX_DELAY_SECONDS = 900
MAX_WAIT_SECONDS = 20
MAX_RECEIVE_MESSAGES = 10
MAX_DEDUP_ID_CHARS = 128
DEFAULT_MAX_ATTEMPTS = 5
DEFAULT_VISIBILITY_SECONDS = 30

_DEDUP_ID = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+")
_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
log = logging.getLogger("statekit.queue")


class InvalidMessage(InvalidValue):
    """A message body (or its options) breaks a portable rule; ``where`` names which message."""

    def __init__(self, where: str, rule: str) -> None:
        StatekitError.__init__(self, f"invalid message {where}: {rule}")
        self.key = where
        self.rule = rule


class MessageTooLarge(ValueTooLarge):
    """A body is over the portable size limit."""

    def __init__(self, where: str, size: int, limit: int) -> None:
        StatekitError.__init__(
            self,
            f"message {where} is {size} bytes as JSON; the portable limit is {limit} bytes "
            "(Azure Queue Storage's 64 KiB after base64)",
        )
        self.key = where
        self.size = size
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message for ``send_many`` with its own options."""

    body: Any
    dedup_id: str | None = None
    delay: int | None = None


@dataclass(eq=False)
class Message:
    """A received message. ``receipt`` is opaque: only the queue that issued it reads it."""

    id: str
    body: Any
    attempts: int  # deliveries so far, this one included (0 where the service does not count)
    receipt: Any = field(repr=False)
    queue: Queue | None = field(default=None, repr=False)
    _raw: ReceivedRaw | None = field(default=None, repr=False)

    def ack(self) -> None:
        self._owner("ack").ack(self)

    def release(self) -> None:
        self._owner("release").release(self)

    def extend(self, seconds: int) -> None:
        self._owner("extend").extend(self, seconds)

    def _owner(self, operation: str) -> Queue:
        if self.queue is None:
            raise InvalidOption(
                f"{operation} of message {self.id!r}: it did not come from Queue.receive "
                "(messages of a Lambda event are deleted by the event source mapping)"
            )
        return self.queue


@dataclass
class SendResult:
    """Per-message outcome of ``send_many``, by position in the input: nothing dropped silently."""

    ids: dict[int, str] = field(default_factory=dict)
    failed: dict[int, StatekitError] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def raise_for_failures(self) -> None:
        if self.failed:
            index, error = next(iter(sorted(self.failed.items())))
            raise StatekitError(
                f"{len(self.failed)} of {len(self.failed) + len(self.ids)} messages failed; "
                f"first: #{index}: {error}"
            ) from error


# -- shared rules ------------------------------------------------------------------------
def encode_body(body: Any, where: str) -> str:
    try:
        data = _encoder.encode(body)
    except (TypeError, ValueError) as exc:
        raise InvalidMessage(where, f"the body must be JSON-compatible: {exc}") from None
    if len(data) * 4 > MAX_BODY_BYTES:
        size = len(data.encode("utf-8"))
        if size > MAX_BODY_BYTES:
            raise MessageTooLarge(where, size, MAX_BODY_BYTES)
    return data


def decode_body(data: str) -> Any:
    """The JSON body; text another producer wrote that is not JSON stays a string."""
    try:
        return json.loads(data)
    except ValueError:
        return data


def _whole_seconds(value: object, name: str, low: int, high: int, where: str = "") -> int:
    if type(value) is float and math.isfinite(value) and value == int(value):
        value = int(value)
    if type(value) is not int or not low <= value <= high:
        place = f" {where}" if where else ""
        raise InvalidOption(
            f"{name}{place} must be whole seconds from {low} to {high}, got {value!r}"
        )
    return value


def check_dedup_id(dedup_id: object, where: str) -> str:
    if type(dedup_id) is not str or not dedup_id:
        raise InvalidMessage(where, f"dedup_id must be a non-empty string, got {dedup_id!r}")
    if len(dedup_id) > MAX_DEDUP_ID_CHARS:
        raise InvalidMessage(
            where, f"dedup_id is {len(dedup_id)} characters; at most {MAX_DEDUP_ID_CHARS}"
        )
    if not _DEDUP_ID.fullmatch(dedup_id):
        raise InvalidMessage(
            where, "dedup_id may hold only A-Z, a-z, 0-9 and ASCII punctuation (no spaces)"
        )
    return dedup_id


class Queue:
    """At-least-once messages with visibility timeouts and a dead-letter queue, on any backend."""

    def __init__(self, backend: QueueBackend, url: str | None = None) -> None:
        self.backend = backend
        self.url = url  # as opened: another process opens the same queue with it

    # -- introspection -----------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def capabilities(self) -> frozenset[QueueCapability]:
        return self.backend.capabilities

    @property
    def limits(self) -> QueueLimits:
        return self.backend.limits

    @property
    def max_attempts(self) -> int:
        return self.backend.max_attempts

    def _require(self, capability: QueueCapability) -> None:
        if capability not in self.backend.capabilities:
            raise Unsupported(self.backend.name, capability.value)

    # -- sending -----------------------------------------------------------------------
    def _prepare(self, body: Any, dedup_id: object, delay: object, where: str) -> OutgoingRaw:
        data = encode_body(body, where)
        if dedup_id is not None:
            check_dedup_id(dedup_id, where)
            self._require(QueueCapability.DEDUP)
        seconds = 0
        if delay is not None:
            seconds = _whole_seconds(delay, "delay", 0, MAX_DELAY_SECONDS, f"for message {where}")
            if seconds:
                self._require(QueueCapability.DELAY)
        return OutgoingRaw(data, dedup_id, seconds)  # type: ignore[arg-type]

    def send(self, body: Any, *, dedup_id: str | None = None, delay: int | None = None) -> str:
        """Enqueue ``body`` (JSON-compatible); return the message id."""
        return self.backend.send(self._prepare(body, dedup_id, delay, "(send)"))

    def send_many(self, messages: Iterable[Any]) -> SendResult:
        """Enqueue bodies (or ``Outgoing`` for per-message options) in native batches.

        A message that breaks a rule is reported in ``failed`` with its error and
        the others are still sent, as SQS's SendMessageBatch reports per entry.
        """
        if isinstance(messages, str | bytes | Mapping):
            raise InvalidOption("send_many takes a list of bodies, not one body")
        result = SendResult()
        prepared: list[tuple[int, OutgoingRaw]] = []
        for index, entry in enumerate(messages):
            where = f"#{index} of send_many"
            try:
                if isinstance(entry, Outgoing):
                    raw = self._prepare(entry.body, entry.dedup_id, entry.delay, where)
                else:
                    raw = self._prepare(entry, None, None, where)
            except (InvalidValue, ValueTooLarge, InvalidOption, Unsupported) as exc:
                result.failed[index] = exc
                continue
            prepared.append((index, raw))
        if prepared:
            outcomes = self.backend.send_many([raw for _, raw in prepared])
            for (index, _), outcome in zip(prepared, outcomes, strict=True):
                if isinstance(outcome, StatekitError):
                    result.failed[index] = outcome
                else:
                    result.ids[index] = outcome
        return result

    # -- receiving ---------------------------------------------------------------------
    def receive(
        self,
        max_messages: int = 1,
        *,
        wait: float = 0,
        visibility: int = DEFAULT_VISIBILITY_SECONDS,
    ) -> list[Message]:
        """Up to ``max_messages`` messages, each invisible to others for ``visibility`` s.

        Waits up to ``wait`` seconds for the first one (long polling). Unacked
        messages come back after their visibility timeout with ``attempts`` raised.
        """
        if type(max_messages) is not int or not 1 <= max_messages <= MAX_RECEIVE_MESSAGES:
            raise InvalidOption(
                f"max_messages must be an int from 1 to {MAX_RECEIVE_MESSAGES}, got {max_messages!r}"
            )
        if (
            type(wait) not in (int, float)
            or not math.isfinite(wait)
            or not 0 <= wait <= MAX_WAIT_SECONDS
        ):
            raise InvalidOption(f"wait must be 0 to {MAX_WAIT_SECONDS} seconds, got {wait!r}")
        seconds = _whole_seconds(visibility, "visibility", 1, MAX_VISIBILITY_SECONDS)
        raws = self.backend.receive(max_messages, float(wait), seconds)
        return [self._message(raw) for raw in raws]

    def _message(self, raw: ReceivedRaw) -> Message:
        return Message(raw.id, decode_body(raw.data), raw.attempts, raw.receipt, self, raw)

    def _raw(self, message: object, operation: str) -> ReceivedRaw:
        if not isinstance(message, Message) or message._raw is None or message.queue is not self:
            raise InvalidOption(
                f"{operation} takes a Message received from this queue, got {message!r}"
            )
        return message._raw

    def ack(self, message: Message) -> None:
        """Done with it: remove it for good."""
        self.backend.ack(self._raw(message, "ack"))

    def ack_many(self, messages: Iterable[Message]) -> dict[str, StatekitError]:
        """Ack several in native batches; return the ids that could not be acked, with why."""
        raws = [self._raw(message, "ack_many") for message in messages]
        return self.backend.ack_many(raws) if raws else {}

    def release(self, message: Message) -> None:
        """Give it back: visible to every consumer now (its attempt still counts)."""
        self.backend.change_visibility(self._raw(message, "release"), 0)

    def extend(self, message: Message, seconds: int) -> None:
        """More time: invisible for ``seconds`` from now (not added to what is left)."""
        raw = self._raw(message, "extend")
        amount = _whole_seconds(seconds, "extend seconds", 1, MAX_VISIBILITY_SECONDS)
        self.backend.change_visibility(raw, amount)

    def dead_letters(
        self,
        max_messages: int = MAX_RECEIVE_MESSAGES,
        *,
        visibility: int = DEFAULT_VISIBILITY_SECONDS,
    ) -> list[Message]:
        """Receive from the dead-letter queue; ``ack`` removes one from it for good."""
        self._require(QueueCapability.DEAD_LETTER)
        if type(max_messages) is not int or not 1 <= max_messages <= MAX_RECEIVE_MESSAGES:
            raise InvalidOption(
                f"max_messages must be an int from 1 to {MAX_RECEIVE_MESSAGES}, got {max_messages!r}"
            )
        seconds = _whole_seconds(visibility, "visibility", 1, MAX_VISIBILITY_SECONDS)
        return [self._message(raw) for raw in self.backend.dead_letters(max_messages, seconds)]

    # -- lifecycle ---------------------------------------------------------------------
    def provision(self) -> Queue:
        """Create the queue, its dead-letter queue and redrive rule if missing (dev, tests)."""
        self.backend.provision()
        return self

    def close(self) -> None:
        self.backend.close()
        _forget(self)

    def __enter__(self) -> Queue:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Queue backend={self.backend.name}>"


# -- batch helpers -----------------------------------------------------------------------
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


# One Queue per URL per process: a warm invocation reuses the cold start's client.
_open_queues: dict[tuple[int, str], Queue] = {}
_open_lock = threading.Lock()


def open_queue(url: str | None = None) -> Queue:
    """The queue named by ``url``, or ``$STATEKIT_QUEUE_URL``, or the embedded SQLite file."""
    from statekit.backends import open_backend

    source = "url"
    if url is None:
        url, source = url_from_env(QUEUE_URL_VARIABLE, DEFAULT_QUEUE_URL)
    cache_key = (os.getpid(), url)
    with _open_lock:
        queue = _open_queues.get(cache_key)
        if queue is None:
            queue = Queue(open_backend("queue", url, source), url)
            _open_queues[cache_key] = queue
        return queue


def _forget(queue: Queue) -> None:
    with _open_lock:
        for cache_key, open_one in list(_open_queues.items()):
            if open_one is queue:
                del _open_queues[cache_key]


def max_attempts_param(value: str | None, low: int, high: int, url: Any) -> int:
    """``max_attempts`` from a URL (default 5, Azure Functions' and Pub/Sub's default)."""
    if value is None:
        return DEFAULT_MAX_ATTEMPTS
    try:
        number = int(value)
    except ValueError:
        raise url.error(f"max_attempts must be an integer, got {value!r}") from None
    if not low <= number <= high:
        raise url.error(f"max_attempts must be from {low} to {high} on this backend, got {number}")
    return number
