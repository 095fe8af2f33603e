"""Where an App finds the activities of its workflows.

The app's code registers each with ``@activity("reserve_seats")``; an App may
instead map names to handler strings (``App(activities={"x": "pkg.mod:fn"})``),
and a ``Workflow`` built with a mapping of functions carries its own. An
activity takes the JSON input its step maps for it and returns JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from statekit.app.errors import AppError

Activity = Callable[[Any], Any]
F = TypeVar("F", bound=Activity)

# name -> every function registered under it (two Apps in one process may share a
# name; an App keeps the one defined in its own code packages).
_REGISTRY: dict[str, list[Activity]] = {}


def activity(name: str) -> Callable[[F], F]:
    """Register the decorated function as the activity ``name`` (the workflow's ``Step.activity``)."""
    from statekit.workflows import check_name

    if not check_name(name):
        raise AppError(
            f"activity name {name!r}: expected a letter then up to 63 letters, digits or '_' "
            "(no '__'), as workflow steps name activities"
        )

    def register(fn: F) -> F:
        where = f"{fn.__module__}.{getattr(fn, '__qualname__', '')}"
        entries = _REGISTRY.setdefault(name, [])
        # A module imported again (a reload) replaces its own entry instead of adding one.
        entries[:] = [
            known
            for known in entries
            if f"{known.__module__}.{getattr(known, '__qualname__', '')}" != where
        ]
        entries.append(fn)
        return fn

    return register


def registered(name: str, packages: tuple[str, ...]) -> list[Activity]:
    """The functions registered as ``name`` whose module is inside one of ``packages``."""
    return [fn for fn in _REGISTRY.get(name, []) if str(fn.__module__).split(".")[0] in packages]
