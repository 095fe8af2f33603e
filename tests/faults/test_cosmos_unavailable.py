"""cosmosdb-server stopped mid-run: bounded BackendUnavailable, nothing half-applied, recovery."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("azure.cosmos")

import statekit
from statekit import BackendUnavailable, Put
from tests.standins import cosmos as cosmos_module

BOUND_SECONDS = 15.0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[cosmos_module.CosmosDBServer]:
    started = cosmos_module.create(tmp_path)  # our own: other suites never see it down
    started.start()
    os.environ.update(started.client_env())
    started.create_container("faults", "items")
    try:
        yield started
    finally:
        started.stop()


def timed_unavailable(call: Callable[[], Any]) -> None:
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        call()
    elapsed = time.monotonic() - started
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s to give up"


def test_stopped_cosmos_raises_then_recovers(server: cosmos_module.CosmosDBServer) -> None:
    store = statekit.open_store(server.store_url("faults", "items"))
    try:
        store.put("f/a", 1)
        server.stop()

        timed_unavailable(lambda: store.get("f/a"))
        timed_unavailable(lambda: store.put("f/b", 2, if_absent=True))
        timed_unavailable(lambda: store.put("f/a", 5))
        timed_unavailable(lambda: store.increment("f/n"))
        timed_unavailable(lambda: store.delete("f/a"))
        timed_unavailable(lambda: store.transact([Put("f/c", 3), Put("f/d", 4)]))
        timed_unavailable(lambda: store.list("f/"))
        result = store.put_many({"f/m1": 1, "g/m2": 2})
        assert not result.succeeded and len(result.failed) == 2
        assert all(isinstance(e, BackendUnavailable) for e in result.failed.values())

        # Same port. The emulator keeps nothing in memory across a restart, so the
        # container is provisioned again, as the IaC would have it.
        server.start()
        server.create_container("faults", "items")
        assert store.get_many(["f/a", "f/b", "f/n"]) == dict.fromkeys(["f/a", "f/b", "f/n"])
        store.put("f/a", 2)
        assert store.get("f/a").value == 2  # type: ignore[union-attr]
        assert store.increment("f/n") == 1
        assert store.list("f/").keys == ["f/a", "f/n"]
    finally:
        store.close()
