"""What a queue backend implements: small translation hooks, nothing else.

Every backend-agnostic rule (JSON bodies, the portable size limit, dedup id
syntax, visibility and delay bounds, capability gates, the batch helper) lives
in ``statekit.queue``. A backend receives validated, already encoded bodies and
whole seconds, and maps them onto its service.

Meaning every hook must keep:

* At-least-once: a received message stays invisible for ``visibility`` seconds;
  unless acked it becomes receivable again, and its ``attempts`` (the number of
  deliveries so far, 1 on the first) rises on every delivery.
* A message delivered ``max_attempts`` times and still not acked is not delivered
  again: the next time it would be, it is in the dead-letter queue instead
  (the service's own mechanism where it has one).
* ``receipt`` is opaque to everything but the backend that issued it; ``ack``,
  ``release`` and ``extend`` take it. A receipt the service reports as no longer
  valid (the message was delivered again since) raises ``ReceiptExpired``.
* Connection failures are retried a bounded number of times (the SDK's retry
  settings) and then raised as ``BackendUnavailable``: never an unbounded hang.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from statekit.errors import BackendUnavailable, StatekitError

if TYPE_CHECKING:
    from statekit.urls import ConnectionURL


class QueueCapability(StrEnum):
    DEDUP = "dedup"  # send(dedup_id=...) drops a repeat within the dedup window
    ORDERING = "ordering"  # one consumer receives in send order
    DELAY = "delay"  # send(delay=...) per message
    DEAD_LETTER = "dead_letter"  # max_attempts enforced and dead_letters() readable
    ATTEMPTS = "attempts"  # Message.attempts counts deliveries


class ReceiptExpired(StatekitError):
    """The message was delivered again (or removed) since this receipt was issued."""

    def __init__(self, backend: str, message_id: str, operation: str) -> None:
        super().__init__(
            f"{operation} of message {message_id!r} on {backend!r}: its receipt is no longer "
            "valid (the visibility timeout ran out and the message was delivered again, "
            "or it was already acked)"
        )
        self.message_id = message_id


class QueueNotFound(StatekitError):
    """The queue (or its dead-letter queue) does not exist: provision it (modules/ does)."""

    def __init__(self, backend: str, queue: str) -> None:
        super().__init__(
            f"queue {queue!r} does not exist on {backend!r}; deploy the state stack, "
            "or call Queue.provision() on a laptop or a stand-in"
        )
        self.queue = queue


class SendFailed(StatekitError):
    """The service refused one message of a batch; ``code`` is the service's reason."""

    def __init__(self, backend: str, code: str, detail: str) -> None:
        super().__init__(f"{backend!r} refused the message: {code}: {detail}")
        self.code = code


class QueueLimits(NamedTuple):
    """What a backend allows; the portable bounds in ``statekit.queue`` fit all of them."""

    max_body_bytes: int  # of the JSON text as UTF-8, before any transport encoding
    max_receive_batch: int  # messages per native receive call
    max_send_batch: int  # messages per native send call (1: no batch API)
    max_visibility_seconds: int
    max_delay_seconds: int
    min_max_attempts: int
    max_max_attempts: int
    dedup_window_seconds: int = 0  # 0: no deduplication
    notes: str = ""


class OutgoingRaw(NamedTuple):
    data: str  # JSON text
    dedup_id: str | None
    delay: int  # whole seconds, 0 for none


class ReceivedRaw(NamedTuple):
    id: str
    data: str
    attempts: int
    receipt: Any


class QueueBackend(ABC):
    """One service's translation of the queue contract."""

    name: ClassVar[str]
    capabilities: frozenset[QueueCapability]  # per instance: SQS FIFO and standard differ
    limits: QueueLimits
    max_attempts: int

    @classmethod
    @abstractmethod
    def from_url(cls, url: ConnectionURL) -> QueueBackend:
        """Build the backend from its connection URL (unknown parameters refused)."""

    @abstractmethod
    def send(self, message: OutgoingRaw) -> str:
        """Enqueue one message; return its id."""

    def send_many(self, messages: Sequence[OutgoingRaw]) -> list[str | StatekitError]:
        """Enqueue in native batches; per message, its id or why it failed."""
        results: list[str | StatekitError] = []
        for index, message in enumerate(messages):
            try:
                results.append(self.send(message))
            except BackendUnavailable as exc:
                # Retries are spent: the rest fail with the same cause, no more waiting.
                results += [exc] * (len(messages) - index)
                break
            except StatekitError as exc:
                results.append(exc)
        return results

    @abstractmethod
    def receive(self, max_messages: int, wait: float, visibility: int) -> list[ReceivedRaw]:
        """Up to ``max_messages`` visible messages, waiting up to ``wait`` seconds for one."""

    @abstractmethod
    def ack(self, message: ReceivedRaw) -> None:
        """Remove the message for good."""

    def ack_many(self, messages: Sequence[ReceivedRaw]) -> dict[str, StatekitError]:
        """Remove several; return the ids that failed, with why."""
        failed: dict[str, StatekitError] = {}
        for message in messages:
            try:
                self.ack(message)
            except StatekitError as exc:
                failed[message.id] = exc
        return failed

    @abstractmethod
    def change_visibility(self, message: ReceivedRaw, seconds: int) -> None:
        """Make the message invisible for ``seconds`` from now (0: visible now)."""

    @abstractmethod
    def dead_letters(self, max_messages: int, visibility: int) -> list[ReceivedRaw]:
        """Receive from the dead-letter queue; ``ack`` removes one from it."""

    def provision(self) -> None:  # noqa: B027 - the embedded backend needs nothing
        """Create the queue, its dead-letter queue and the native redrive rule if missing.

        For laptops, tests and benchmarks; in a deployment modules/ provisions them.
        """

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release connections."""
