"""The task token of an activity a workflow waits on (Step Functions ``.waitForTaskToken``).

The runtime sets it while such an activity runs; the activity stores it (with
the thing it waits for, e.g. an approval request) so that whoever completes
the wait later can hand it back to the engine. None for an ordinary activity.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "statekit_task_token", default=None
)


def current_task_token() -> str | None:
    return _current.get()


@contextmanager
def task_token_scope(token: str | None) -> Iterator[None]:
    handle = _current.set(token)
    try:
        yield
    finally:
        _current.reset(handle)
