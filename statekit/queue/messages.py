"""Queue messages and the portable rules every body, option and dedup id must meet.

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
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from statekit.errors import InvalidOption, InvalidValue, StatekitError, ValueTooLarge
from statekit.queue.backend import ReceivedRaw

if TYPE_CHECKING:
    from statekit.queue.facade import Queue

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


def whole_seconds(value: object, name: str, low: int, high: int, where: str = "") -> int:
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
