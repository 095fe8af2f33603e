"""How long the running invocation may still take, as the platform tells it.

A Lambda context among the arguments says it (``get_remaining_time_in_millis``);
Azure Functions and Cloud Functions do not, so their entry points set a deadline
with ``function_deadline``. ``@idempotent`` uses it as the in-progress expiry.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "statekit_function_deadline", default=None
)


@contextmanager
def function_deadline(at: float | datetime) -> Iterator[None]:
    """Tell ``@idempotent`` when this invocation will be stopped (epoch seconds or datetime).

    Azure Functions and Cloud Functions do not pass the remaining time; their
    entry points know the configured timeout and wrap the call in this.
    """
    epoch = at.timestamp() if isinstance(at, datetime) else float(at)
    token = _deadline.set(epoch)
    try:
        yield
    finally:
        _deadline.reset(token)


def is_platform_context(value: object) -> bool:
    return callable(getattr(value, "get_remaining_time_in_millis", None))


def platform_remaining(args: tuple[Any, ...], kwargs: dict[str, Any]) -> float | None:
    """Seconds left: from a Lambda context among the arguments, else ``function_deadline``."""
    for value in (*args, *kwargs.values()):
        if is_platform_context(value):  # the Lambda context
            return float(value.get_remaining_time_in_millis()) / 1000.0
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.time()
