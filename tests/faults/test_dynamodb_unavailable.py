"""DynamoDB stand-in stopped mid-run: bounded BackendUnavailable, nothing half-applied, recovery."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("boto3")

import statekit
from statekit import BackendUnavailable, Put
from tests.standins import moto as moto_module
from tests.standins.dynamodb_table import create_store_table

BOUND_SECONDS = 15.0
TABLE = "faults"


@pytest.fixture
def moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[moto_module.MotoServer]:
    server = moto_module.create(tmp_path)  # our own: other suites never see it down
    server.start()
    for name, value in server.client_env().items():
        monkeypatch.setenv(name, value)
    try:
        yield server
    finally:
        server.stop()


def timed_unavailable(call) -> float:
    started = time.monotonic()
    with pytest.raises(BackendUnavailable) as raised:
        call()
    elapsed = time.monotonic() - started
    assert raised.value.backend == "dynamodb"
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s to give up"
    return elapsed


def test_stopped_dynamodb_raises_then_recovers(moto: moto_module.MotoServer) -> None:
    create_store_table(moto.endpoint, TABLE)
    store = statekit.open_store(f"dynamodb://{TABLE}?region=us-east-1&endpoint={moto.endpoint}")
    try:
        store.put("f/a", 1)
        moto.stop()

        timed_unavailable(lambda: store.get("f/a"))
        timed_unavailable(lambda: store.put("f/b", 2, if_absent=True))
        timed_unavailable(lambda: store.transact([Put("f/c", 3), Put("f/d", 4)]))
        started = time.monotonic()
        result = store.put_many({f"f/m{i}": i for i in range(30)})  # two batch chunks
        assert time.monotonic() - started < BOUND_SECONDS
        assert not result.succeeded and len(result.failed) == 30
        assert all(isinstance(e, BackendUnavailable) for e in result.failed.values())

        moto.start()  # same port: the client made before the stop reaches it
        create_store_table(moto.endpoint, TABLE)  # moto server keeps nothing across a restart
        assert store.get("f/b") is None and store.get("f/c") is None
        store.put("f/a", 2)
        assert store.get("f/a").value == 2  # type: ignore[union-attr]
        assert store.increment("f/n") == 1
    finally:
        store.close()
