"""The queue: one meaning of at-least-once messaging on every backend.

``open_queue(url)`` picks the backend from ``STATEKIT_QUEUE_URL`` (default: the
embedded SQLite file ``.statekit/queue.db``, queue ``default``). ``Queue`` holds
every shared rule (JSON bodies, the portable limits, dedup id syntax, capability
gates) and calls the backend's hooks (``statekit.queue.backend``).

The portable limits are in messages.py (and docs/queue.md); the batch
helpers ``process_batch`` and ``handle_sqs_event`` in batch.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from statekit.clients.shared import SharedClient, open_shared
from statekit.errors import InvalidOption, InvalidValue, StatekitError, Unsupported, ValueTooLarge
from statekit.queue.backend import (
    OutgoingRaw,
    QueueBackend,
    QueueCapability,
    QueueLimits,
    ReceivedRaw,
)
from statekit.queue.messages import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_VISIBILITY_SECONDS,
    MAX_DELAY_SECONDS,
    MAX_RECEIVE_MESSAGES,
    MAX_VISIBILITY_SECONDS,
    MAX_WAIT_SECONDS,
    Message,
    Outgoing,
    SendResult,
    check_dedup_id,
    decode_body,
    encode_body,
    whole_seconds,
)

QUEUE_URL_VARIABLE = "STATEKIT_QUEUE_URL"
DEFAULT_QUEUE_URL = "sqlite://"


class Queue(SharedClient):
    """At-least-once messages with visibility timeouts and a dead-letter queue, on any backend."""

    backend: QueueBackend

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

    # -- sending -----------------------------------------------------------------------
    def _prepare(self, body: Any, dedup_id: object, delay: object, where: str) -> OutgoingRaw:
        data = encode_body(body, where)
        if dedup_id is not None:
            check_dedup_id(dedup_id, where)
            self._require(QueueCapability.DEDUP)
        seconds = 0
        if delay is not None:
            seconds = whole_seconds(delay, "delay", 0, MAX_DELAY_SECONDS, f"for message {where}")
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
        seconds = whole_seconds(visibility, "visibility", 1, MAX_VISIBILITY_SECONDS)
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
        amount = whole_seconds(seconds, "extend seconds", 1, MAX_VISIBILITY_SECONDS)
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
        seconds = whole_seconds(visibility, "visibility", 1, MAX_VISIBILITY_SECONDS)
        return [self._message(raw) for raw in self.backend.dead_letters(max_messages, seconds)]

    # -- lifecycle ---------------------------------------------------------------------
    def provision(self) -> Queue:
        """Create the queue, its dead-letter queue and redrive rule if missing (dev, tests)."""
        self.backend.provision()
        return self

    def __repr__(self) -> str:
        return f"<Queue backend={self.backend.name}>"


def open_queue(url: str | None = None) -> Queue:
    """The queue named by ``url``, or ``$STATEKIT_QUEUE_URL``, or the embedded SQLite file.

    One Queue per URL per process (``statekit.clients.shared``): a warm invocation
    reuses the cold start's client."""
    return open_shared("queue", url, QUEUE_URL_VARIABLE, DEFAULT_QUEUE_URL, Queue)


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
