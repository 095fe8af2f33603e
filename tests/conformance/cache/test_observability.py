"""Every cache backend traced and counted the same way (issue 17), on its real stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from statekit.cache import Cache, CacheBackend
from statekit.observability import semconv
from statekit.registry import open_backend
from tests.conformance.registry import Case
from tests.observability.telemetry_fixture import all_attribute_values, attrs, captured_telemetry
from tests.standins.base import StandInPool

VALUE_MARKER = "cached-value-must-not-be-traced-51c2"


def test_hits_and_misses_are_counted_and_spans_name_the_cache_system(
    cache_case: Case, standins: StandInPool, tmp_path: Path, ns: str
) -> None:
    url = cache_case.live_url(standins, tmp_path)
    for captured in captured_telemetry():
        cache = Cache(cast(CacheBackend, open_backend("cache", url)))
        cache.set(f"{ns}-a", {"secret": VALUE_MARKER}, ttl=60)
        assert cache.get(f"{ns}-a") == {"secret": VALUE_MARKER}
        assert cache.get(f"{ns}-missing") is None
        cache.delete(f"{ns}-a")

        counts = {
            a[semconv.CACHE_HIT]: p.value for a, p in captured.points("statekit.cache.requests")
        }
        assert counts == {"true": 1, "false": 1}
        spans = captured.spans()
        assert [attrs(s)[semconv.DB_OPERATION] for s in spans] == ["set", "get", "get", "delete"]
        system = semconv.DB_SYSTEMS.get(cache.backend.name, cache.backend.name)
        assert {attrs(s)[semconv.DB_SYSTEM] for s in spans} == {system}
        assert [attrs(s).get(semconv.CACHE_HIT) for s in spans[1:3]] == [True, False]
        assert not any(VALUE_MARKER in value for value in all_attribute_values(spans))
