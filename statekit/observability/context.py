"""The correlation id of the request being served, carried into spans and mutation records.

A context variable, so threads and asyncio tasks each see their own; the runtime
adapters set it from the incoming request and clear it when the call ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_correlation_id: ContextVar[str | None] = ContextVar("statekit_correlation_id", default=None)


def current_correlation_id() -> str | None:
    return _correlation_id.get()


@contextmanager
def correlation_scope(correlation_id: str | None) -> Iterator[None]:
    """State operations made inside carry ``correlation_id``."""
    token = _correlation_id.set(correlation_id)
    try:
        yield
    finally:
        _correlation_id.reset(token)
