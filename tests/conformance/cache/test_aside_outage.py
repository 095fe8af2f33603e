"""A cache outage never fails a committed store write, never leaves a stale value in use.

redis-server is the cache (our own, append-only, so the entry cached before the
stop is still there after the restart: the stale entry the invalidation missed);
the store is the in-process memory backend, which the outage does not touch. Traced
(issue 17), the write's store span is ok and the failed invalidation's cache span is
the one with outcome ``unavailable``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("redis")

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

import statekit
from statekit.cache.aside import CacheAside
from statekit.idempotency import idempotent
from statekit.observability import semconv
from statekit.observability.telemetry import IDEMPOTENCY_REPLAYS, OPERATION_DURATION
from statekit.store.backends.memory import MemoryStore
from tests.observability.telemetry_fixture import (
    Captured,
    all_attribute_values,
    attrs,
    telemetry_scope,
)
from tests.standins import redis as redis_module
from tests.standins.redis import DurableRedis

VALUE_MARKER = "aside-value-must-not-be-traced-0b7e"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[redis_module.RedisServer]:
    started = DurableRedis(tmp_path)
    started.start()
    try:
        yield started
    finally:
        started.stop()


def test_a_write_commits_and_returns_while_the_cache_is_down(
    server: redis_module.RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = statekit.Store(MemoryStore())
    cache = statekit.open_cache(server.url)
    reported: list[tuple[str, str]] = []
    aside = CacheAside(
        store,
        cache,
        ttl=60,
        prefix="outage:",
        on_cache_error=lambda op, k, e: reported.append((op, k)),
    )
    store.put("o/k", "old")
    assert aside.get("o/k") == "old"  # now cached in redis
    server.stop()

    with caplog.at_level(logging.WARNING, logger="statekit.cache"):
        item = aside.put("o/k", "new")  # committed: must not raise
        store.put("o/k", "newer")  # straight on the store: same listener, same answer
        assert store.increment("o/n") == 1
    assert item.value == "new"
    assert store.get("o/k").value == "newer"  # type: ignore[union-attr]
    assert ("invalidate", "o/k") in reported
    assert aside.cache_errors >= 2
    assert "o/k" in caplog.text and "invalidate" in caplog.text
    assert store.listener_errors == 0  # the helper reported it; nothing escaped

    # While the cache is down, reads come from the store.
    assert aside.get("o/k") == "newer"

    server.start()  # the stale "old" entry is still in the append-only file
    assert cache.get("outage:o/k") == "old"  # proof the stale entry survived
    assert aside.get("o/k") == "newer"  # suspect: the delete is retried, then the store read
    assert cache.get("outage:o/k") == "newer"  # the stale entry is gone, the fresh one cached
    assert aside.get("o/k") == "newer"


def _spans_of(captured: Captured, block: str, since: int = 0) -> list[ReadableSpan]:
    """The spans of one block's calls (the store here is memory, the cache Redis)."""
    system = "statekit.memory" if block == "store" else "redis"
    return [s for s in captured.spans()[since:] if attrs(s)[semconv.DB_SYSTEM] == system]


def _outcomes(captured: Captured) -> dict[tuple[str, str, str], int]:
    """(block, operation, outcome) -> calls, from the duration metric."""
    return {
        (a[semconv.BLOCK], a[semconv.OPERATION], a[semconv.OUTCOME]): p.count
        for a, p in captured.points(OPERATION_DURATION)
    }


def _assert_unavailable(span: ReadableSpan) -> None:
    assert span.status.status_code is StatusCode.ERROR, span.status
    assert attrs(span)[semconv.OUTCOME] == "unavailable"
    assert attrs(span)[semconv.ERROR_TYPE] == "BackendUnavailable"


def _assert_ok(span: ReadableSpan) -> None:
    assert span.status.status_code is StatusCode.UNSET, span.status
    assert attrs(span)[semconv.OUTCOME] == "ok"


def test_a_cache_outage_during_a_write_is_unavailable_on_the_cache_span_the_store_span_ok(
    server: redis_module.RedisServer,
) -> None:
    with telemetry_scope() as captured:
        store = statekit.open_store(f"memory://aside-{uuid.uuid4().hex[:8]}")
        cache = statekit.open_cache(server.url)
        aside = CacheAside(store, cache, ttl=60, prefix="traced:")
        store.put("o/k", "old")
        assert aside.get("o/k") == "old"  # cached
        server.stop()
        since = len(captured.spans())

        item = aside.put("o/k", {"secret": VALUE_MARKER})  # committed: must not raise

        assert item.value == {"secret": VALUE_MARKER}
        [write] = _spans_of(captured, "store", since)
        assert attrs(write)[semconv.DB_OPERATION] == "put"
        _assert_ok(write)
        [invalidation] = _spans_of(captured, "cache", since)
        assert attrs(invalidation)[semconv.DB_OPERATION] == "delete"
        _assert_unavailable(invalidation)
        assert write.end_time is not None and invalidation.start_time is not None
        assert write.end_time <= invalidation.start_time  # committed first, then invalidated
        outcomes = _outcomes(captured)
        assert outcomes[("store", "put", "ok")] == 2
        assert ("store", "put", "unavailable") not in outcomes
        assert outcomes[("cache", "delete", "unavailable")] == 1
        assert not any(VALUE_MARKER in v for v in all_attribute_values(captured.spans()))


def test_an_idempotent_call_completes_its_record_while_the_cache_is_down(
    server: redis_module.RedisServer,
) -> None:
    with telemetry_scope() as captured:
        store = statekit.open_store(f"memory://idem-{uuid.uuid4().hex[:8]}")
        cache = statekit.open_cache(server.url)
        aside = CacheAside(store, cache, ttl=60, prefix="outage2:")  # kept: weakly held
        runs: list[str] = []

        @idempotent(store=store, key=lambda order: order)
        def charge(order: str) -> dict[str, str]:
            runs.append(order)
            store.put(f"orders/{order}", "charged")
            return {"order": order}

        server.stop()
        assert charge("o-1") == {"order": "o-1"}
        assert charge("o-1") == {"order": "o-1"}  # replayed, not waiting on an in-progress record
        assert aside.cache_errors == 3  # each committed write's invalidation
        assert runs == ["o-1"]  # the duplicate found a completed record (else AlreadyInProgress)

        # Traced as it happened: claim, the function's write, completion, then the
        # duplicate's refused claim, all on the store; every invalidation unavailable.
        writes = _spans_of(captured, "store")
        assert [attrs(s)[semconv.OUTCOME] for s in writes] == ["ok", "ok", "ok", "conflict"]
        assert all(s.status.status_code is StatusCode.UNSET for s in writes)
        invalidations = _spans_of(captured, "cache")
        assert [attrs(s)[semconv.DB_OPERATION] for s in invalidations] == ["delete"] * 3
        for span in invalidations:
            _assert_unavailable(span)
        assert [p.value for _, p in captured.points(IDEMPOTENCY_REPLAYS)] == [1]
