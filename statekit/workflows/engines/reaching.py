"""One rule for the workflow clients of the clouds: an SDK's failure to reach its engine
is ``BackendUnavailable``, whatever the SDK calls it.

Each client says which of its SDK's errors mean "not reachable, try later" (refused or
timed-out connections, throttling, 5xx answers, after the SDK's own retries) and
decorates its public calls; every other error is the method's to handle or to let through.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from statekit.errors import BackendUnavailable, StatekitError

F = TypeVar("F", bound=Callable[..., Any])


def reaching(engine: str, unavailable: Callable[[Exception], bool]) -> Callable[[F], F]:
    """A decorator for ``engine``'s client calls: errors ``unavailable`` accepts become
    ``BackendUnavailable(engine, <method name>, error)``."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def translated(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except StatekitError:
                raise  # already ours (a store's outage, WorkflowNotFound...)
            except Exception as exc:
                if unavailable(exc):
                    raise BackendUnavailable(engine, method.__name__, exc) from exc
                raise

        return translated  # type: ignore[return-value]

    return decorate
