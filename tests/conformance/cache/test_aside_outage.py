"""A cache outage never fails a committed store write, never leaves a stale value in use.

redis-server is the cache (our own, append-only, so the entry cached before the
stop is still there after the restart: the stale entry the invalidation missed);
the store is the in-process memory backend, which the outage does not touch.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("redis")

import statekit
from statekit.cache.aside import CacheAside
from statekit.idempotency import idempotent
from statekit.store.backends.memory import MemoryStore
from tests.standins import redis as redis_module


class DurableRedis(redis_module.RedisServer):
    def command(self) -> list[str]:
        plain = super().command()
        at = plain.index("--appendonly")
        return [*plain[:at], "--appendonly", "yes", "--appendfsync", "always", *plain[at + 2 :]]


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


def test_an_idempotent_call_completes_its_record_while_the_cache_is_down(
    server: redis_module.RedisServer,
) -> None:
    store = statekit.Store(MemoryStore())
    cache = statekit.open_cache(server.url)
    aside = CacheAside(store, cache, ttl=60, prefix="outage2:")  # kept: helpers are weakly held
    runs: list[str] = []

    @idempotent(store=store, key=lambda order: order)
    def charge(order: str) -> dict[str, str]:
        runs.append(order)
        store.put(f"orders/{order}", "charged")
        return {"order": order}

    server.stop()
    assert charge("o-1") == {"order": "o-1"}
    assert charge("o-1") == {"order": "o-1"}  # replayed, not waiting on an in-progress record
    assert aside.cache_errors >= 1
    assert runs == ["o-1"]  # the duplicate found a completed record (else AlreadyInProgress)
