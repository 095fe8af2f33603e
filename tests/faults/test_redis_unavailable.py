"""redis-server stopped mid-run: bounded BackendUnavailable, nothing half-applied, recovery.

The server keeps an append-only file, so the check after the restart sees both what was
written before the stop (intact) and nothing of the calls made while it was down.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("redis")

import statekit
from statekit import BackendUnavailable, Put
from tests.standins import redis as redis_module

BOUND_SECONDS = 15.0


class DurableRedis(redis_module.RedisServer):
    """Append-only file, fsync on every write: what was acknowledged survives the restart."""

    def command(self) -> list[str]:
        plain = super().command()
        at = plain.index("--appendonly")
        return [*plain[:at], "--appendonly", "yes", "--appendfsync", "always", *plain[at + 2 :]]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[redis_module.RedisServer]:
    started = DurableRedis(tmp_path)  # our own: other suites never see it down
    started.start()
    try:
        yield started
    finally:
        started.stop()


def timed_unavailable(call) -> None:
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        call()
    elapsed = time.monotonic() - started
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s to give up"


def test_stopped_redis_raises_then_recovers(server: redis_module.RedisServer) -> None:
    store = statekit.open_store(server.url + "?prefix=faults:")
    try:
        store.put("f/a", 1)
        store.put("f/keep", "k")
        server.stop()

        timed_unavailable(lambda: store.get("f/a"))
        timed_unavailable(lambda: store.put("f/b", 2, if_absent=True))
        timed_unavailable(lambda: store.increment("f/n"))
        timed_unavailable(lambda: store.transact([Put("f/c", 3), Put("f/d", 4)]))
        timed_unavailable(lambda: store.list("f/"))
        result = store.put_many({f"f/m{i}": i for i in range(30)})
        assert not result.succeeded and len(result.failed) == 30
        assert all(isinstance(e, BackendUnavailable) for e in result.failed.values())

        server.start()  # same port, same append-only file
        # What was written before the stop is intact; nothing of the failed calls is there.
        assert store.get("f/keep").value == "k"  # type: ignore[union-attr]
        assert store.get_many(["f/b", "f/c", "f/d", "f/n", "f/m0"]) == dict.fromkeys(
            ["f/b", "f/c", "f/d", "f/n", "f/m0"]
        )
        assert store.list("f/").keys == ["f/a", "f/keep"]
        store.put("f/a", 2)
        assert store.get("f/a").value == 2  # type: ignore[union-attr]
        assert store.increment("f/n") == 1
        assert store.list("f/").keys == ["f/a", "f/keep", "f/n"]
    finally:
        store.close()
