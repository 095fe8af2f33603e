"""Firestore emulator stopped mid-run: bounded BackendUnavailable, nothing half-applied, recovery."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("google.cloud.firestore")

import statekit
from statekit import BackendUnavailable, Put
from tests.standins import firestore as firestore_module

BOUND_SECONDS = 15.0


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[firestore_module.FirestoreEmulator]:
    started = firestore_module.create(tmp_path)  # our own: other suites never see it down
    started.start()
    previous = {name: os.environ.get(name) for name in started.client_env()}
    os.environ.update(started.client_env())
    try:
        yield started
    finally:
        started.stop()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def timed_unavailable(call: Callable[[], Any]) -> None:
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        call()
    elapsed = time.monotonic() - started
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s to give up"


def test_stopped_firestore_raises_then_recovers(
    emulator: firestore_module.FirestoreEmulator,
) -> None:
    store = statekit.open_store(emulator.store_url("faults"))
    try:
        store.put("f/a", 1)
        emulator.stop()

        timed_unavailable(lambda: store.get("f/a"))
        timed_unavailable(lambda: store.put("f/b", 2, if_absent=True))
        timed_unavailable(lambda: store.increment("f/n"))
        timed_unavailable(lambda: store.transact([Put("f/c", 3), Put("f/d", 4)]))
        timed_unavailable(lambda: store.list("f/"))
        result = store.put_many({f"f/m{i}": i for i in range(30)})
        assert not result.succeeded and len(result.failed) == 30
        assert all(isinstance(e, BackendUnavailable) for e in result.failed.values())

        emulator.start()  # same port; the emulator keeps nothing across a restart
        assert store.get_many(["f/b", "f/c", "f/d", "f/n"]) == dict.fromkeys(
            ["f/b", "f/c", "f/d", "f/n"]
        )
        store.put("f/a", 2)
        assert store.get("f/a").value == 2  # type: ignore[union-attr]
        assert store.increment("f/n") == 1
        assert store.list("f/").keys == ["f/a", "f/n"]
    finally:
        store.close()
