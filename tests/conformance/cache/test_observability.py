"""Every cache backend traced and counted the same way (issue 17), on its real stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from statekit.cache import Cache, CacheBackend, open_cache
from statekit.observability import semconv
from statekit.registry import open_backend
from tests.conformance.cache.conftest import CACHE_CASES
from tests.conformance.fault import restartable_cases, traced_own, traced_unavailable
from tests.conformance.registry import Case, Restartable
from tests.observability.telemetry_fixture import (
    Captured,
    all_attribute_values,
    attrs,
    captured_telemetry,
)
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


@pytest.fixture(params=restartable_cases(CACHE_CASES))
def traced_own_cache(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Restartable, Cache, Captured]]:
    yield from traced_own(CACHE_CASES[request.param], tmp_path, monkeypatch, open_cache)


def test_an_unreachable_server_is_one_error_span_with_outcome_unavailable(
    traced_own_cache: tuple[Restartable, Cache, Captured],
) -> None:
    own, cache, captured = traced_own_cache
    cache.set("u-a", 1, ttl=60)  # a connection made, then lost: what a warm function sees
    assert cache.get("u-a") == 1
    own.stop()
    span = traced_unavailable(
        captured,
        lambda: cache.set("u-a", {"secret": VALUE_MARKER}, ttl=60),
        block="cache",
        operation="set",
        secrets=[VALUE_MARKER],
    )
    system = semconv.DB_SYSTEMS.get(cache.backend.name, cache.backend.name)
    assert attrs(span)[semconv.DB_SYSTEM] == system
    lookup = traced_unavailable(captured, lambda: cache.get("u-a"), block="cache", operation="get")
    assert semconv.CACHE_HIT not in attrs(lookup)
    # A lookup that failed is neither a hit nor a miss: the hit ratio counts answers only.
    counted = {a[semconv.CACHE_HIT]: p.value for a, p in captured.points("statekit.cache.requests")}
    assert counted == {"true": 1}
