"""The correlation id of the call being handled, kept across HTTP, queue and workflow hops.

The runtime adapters set it from ``X-Correlation-Id`` (or a message's or an
activity input's ``correlation_id``), or make one; handlers and their logs read
it with ``current_correlation_id()`` and put it into what they send onward.
"""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

CORRELATION_HEADER = "x-correlation-id"
MAX_CORRELATION_CHARS = 128

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "statekit_correlation", default=None
)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def current_correlation_id() -> str:
    """The id of the call in progress; a fresh one (kept for the rest of it) outside any."""
    value = _current.get()
    if value is None:
        value = new_correlation_id()
        _current.set(value)
    return value


def peek_correlation_id() -> str | None:
    """The id of the call in progress, or None outside any (makes none)."""
    return _current.get()


def usable_correlation_id(value: object) -> str | None:
    """A caller's id when it is a sane string (an id is copied into logs and messages)."""
    if isinstance(value, str) and 0 < len(value) <= MAX_CORRELATION_CHARS and value.isprintable():
        return value
    return None


@contextmanager
def correlation(correlation_id: object) -> Iterator[str]:
    """Run a block under ``correlation_id`` (a fresh one when it is missing or not sane)."""
    value = usable_correlation_id(correlation_id) or new_correlation_id()
    token = _current.set(value)
    try:
        yield value
    finally:
        _current.reset(token)
