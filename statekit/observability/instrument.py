"""Wrap a freshly opened backend when something listens; otherwise hand it back untouched."""

from __future__ import annotations

from typing import Any

from statekit.observability import mutations
from statekit.observability.telemetry import active
from statekit.urls import ConnectionURL


def instrument(kind: str, backend: Any, url: ConnectionURL) -> Any:
    telemetry = active()
    if kind == "store":
        if telemetry is None and not mutations.enabled():
            return backend
        from statekit.observability.store import InstrumentedStore

        return InstrumentedStore(backend, url, telemetry)
    if telemetry is None:
        return backend
    if kind == "cache":
        from statekit.observability.cache import InstrumentedCache

        return InstrumentedCache(backend, url, telemetry)
    if kind == "queue":
        from statekit.observability.queue import InstrumentedQueue

        return InstrumentedQueue(backend, url, telemetry)
    if kind == "workflows":
        from statekit.observability.workflows import InstrumentedWorkflows

        return InstrumentedWorkflows(backend, url, telemetry)
    return backend
