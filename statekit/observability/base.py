"""The wrapper every instrumented backend shares: delegation and per-backend attributes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from statekit.observability import semconv
from statekit.observability.telemetry import OUTCOMES, Telemetry
from statekit.urls import ConnectionURL


class InstrumentedBackend:
    """Stands in for a backend: hooks it measures are methods, the rest is delegated."""

    block: str = ""

    def __init__(self, inner: Any, url: ConnectionURL, telemetry: Telemetry | None) -> None:
        self.inner = inner
        self.telemetry = telemetry
        self.backend_name: str = getattr(inner, "name", url.scheme)
        # Where the data lives, never credentials: ConnectionURL has no password, and
        # query parameters (which may name secrets) are left out.
        self.target = "/".join(part for part in (url.host, url.path.strip("/")) if part)
        self._metric_cache: dict[str, Mapping[str, Mapping[str, str]]] = {}
        self.metric_attributes = {
            semconv.BLOCK: self.block,
            semconv.BACKEND: self.backend_name,
        }

    def __getattr__(self, name: str) -> Any:
        # Only reached for what this class does not define: names, limits, capabilities...
        return getattr(self.inner, name)

    def __repr__(self) -> str:
        return f"<instrumented {self.inner!r}>"

    def span_name(self, operation: str) -> str:
        return f"{operation} {self.target}" if self.target else operation

    def metric(self, operation: str) -> Mapping[str, Mapping[str, str]]:
        """The duration metric's attributes for ``operation``, one dict per outcome, made once."""
        found = self._metric_cache.get(operation)
        if found is None:
            found = {
                outcome: {
                    **self.metric_attributes,
                    semconv.OPERATION: operation,
                    semconv.OUTCOME: outcome,
                }
                for outcome in OUTCOMES
            }
            self._metric_cache[operation] = found
        return found
