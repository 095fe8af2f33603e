"""The cache backend, instrumented: spans and durations, and hits and misses counted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from statekit.observability import semconv
from statekit.observability.base import InstrumentedBackend
from statekit.observability.spans import measure


class InstrumentedCache(InstrumentedBackend):
    block = "cache"

    def _call(self, operation: str, fn: Any, *args: Any, batch: int | None = None) -> Any:
        assert self.telemetry is not None  # a cache is wrapped only for telemetry
        attributes: dict[str, Any] = {
            semconv.DB_SYSTEM: semconv.DB_SYSTEMS.get(self.backend_name, self.backend_name),
            semconv.DB_OPERATION: operation,
        }
        if batch is not None:
            attributes[semconv.DB_BATCH_SIZE] = batch
        return measure(
            self.telemetry,
            self.span_name(operation),
            attributes,
            self.metric(operation),
            fn,
            *args,
            result_attributes=_hit if operation == "get" else None,
        )

    def _count(self, hits: int, misses: int) -> None:
        assert self.telemetry is not None
        base = self.metric_attributes
        if hits:
            self.telemetry.cache_requests.add(hits, {**base, semconv.CACHE_HIT: "true"})
        if misses:
            self.telemetry.cache_requests.add(misses, {**base, semconv.CACHE_HIT: "false"})

    def get(self, key: str) -> Any:
        data = self._call("get", self.inner.get, key)
        self._count(data is not None, data is None)
        return data

    def get_many(self, keys: Sequence[str]) -> list[Any]:
        found: list[Any] = self._call("get_many", self.inner.get_many, keys, batch=len(keys))
        hits = sum(1 for data in found if data is not None)
        self._count(hits, len(found) - hits)
        return found

    def set(self, key: str, data: str, ttl_ms: int | None) -> None:
        self._call("set", self.inner.set, key, data, ttl_ms)

    def set_many(self, items: Sequence[tuple[str, str]], ttl_ms: int | None) -> None:
        self._call("set_many", self.inner.set_many, items, ttl_ms, batch=len(items))

    def delete(self, key: str) -> bool:
        deleted: bool = self._call("delete", self.inner.delete, key)
        return deleted


def _hit(data: Any) -> dict[str, bool]:
    return {semconv.CACHE_HIT: data is not None}
