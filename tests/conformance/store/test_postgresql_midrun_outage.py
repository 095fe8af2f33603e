"""PostgreSQL stopped mid-run: bounded BackendUnavailable, nothing half-written, recovery.

The server is a throwaway cluster of our own (other suites never see it down); a fast
shutdown cuts every session, as a failover or a crash does. Writers keep going while
it stops: every write acknowledged before the stop is there after the restart, and
every transaction is there whole or not at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("psycopg")

import statekit
from statekit import BackendUnavailable, Put
from tests.standins.postgresql import PostgreSQLServer

BOUND_SECONDS = 15.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PostgreSQLServer]:
    started = PostgreSQLServer(tmp_path)
    started.start()
    try:
        yield started
    finally:
        started.cleanup()


def timed_unavailable(call: Callable[[], object]) -> None:
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        call()
    elapsed = time.monotonic() - started
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s to give up"


def test_server_stopped_mid_run_raises_within_a_bound_then_recovers(
    server: PostgreSQLServer,
) -> None:
    store = statekit.open_store(server.url(table="faults", timeout="3"))
    acknowledged: list[int] = []
    errors: list[BaseException] = []
    stop_writing = threading.Event()

    def writer() -> None:
        n = 0
        while not stop_writing.is_set():
            try:
                # Two keys in one transaction: after the outage both exist or neither.
                store.transact([Put(f"t/a{n:05d}", n), Put(f"t/b{n:05d}", n)])
                acknowledged.append(n)
            except BackendUnavailable:
                pass
            except BaseException as exc:  # anything else is a defect the test reports
                errors.append(exc)
                return
            n += 1

    try:
        store.put("f/keep", "k")
        thread = threading.Thread(target=writer)
        thread.start()
        time.sleep(0.5)
        server.stop()  # mid-run: the writer's transactions are cut wherever they are
        time.sleep(0.3)

        timed_unavailable(lambda: store.get("f/keep"))
        timed_unavailable(lambda: store.put("f/b", 2, if_absent=True))
        timed_unavailable(lambda: store.increment("f/n"))
        timed_unavailable(lambda: store.transact([Put("f/c", 3), Put("f/d", 4)]))
        timed_unavailable(lambda: store.list("f/"))
        result = store.put_many({f"f/m{i}": i for i in range(30)})
        assert not result.succeeded and len(result.failed) == 30
        assert all(isinstance(e, BackendUnavailable) for e in result.failed.values())

        server.start()  # same port, same data directory
        stop_writing.set()
        thread.join(timeout=60)
        assert not errors, errors
        assert acknowledged, "the writer never committed before the stop"

        assert store.get("f/keep").value == "k"  # type: ignore[union-attr]
        assert store.get_many(["f/b", "f/c", "f/d", "f/n", "f/m0"]) == dict.fromkeys(
            ["f/b", "f/c", "f/d", "f/n", "f/m0"]
        )
        a_keys = {item.key[3:] for item in store.iter_prefix("t/a")}
        b_keys = {item.key[3:] for item in store.iter_prefix("t/b")}
        assert a_keys == b_keys, "a transaction was half-written"
        assert {f"{n:05d}" for n in acknowledged} <= a_keys, "an acknowledged write was lost"
        store.put("f/a", 2)
        assert store.get("f/a").value == 2  # type: ignore[union-attr]
        assert store.increment("f/n") == 1
    finally:
        stop_writing.set()
        store.close()
