"""A store's stand-in stopped mid-run: bounded BackendUnavailable, nothing half-applied, recovery.

One test over every store case with a restartable stand-in (store/cases/). Where the
stand-in keeps what was acknowledged across a restart (redis-server with its
append-only file, moto replaying its request recording), the check after the restart
sees what was written before the stop intact; the emulators that keep nothing
(cosmosdb-server, the Firestore emulator) start empty. Either way nothing of the calls
made while it was down is there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import statekit
from statekit import BackendUnavailable, Put
from tests.conformance.fault import BOUND_SECONDS, restartable_cases, start_own, timed_unavailable
from tests.conformance.registry import Case, Restartable
from tests.conformance.store.conftest import STORE_CASES


@pytest.fixture(params=restartable_cases(STORE_CASES))
def outage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Case, Restartable]]:
    case = STORE_CASES[request.param]
    with start_own(case, tmp_path, monkeypatch) as own:
        yield case, own


def test_stopped_store_raises_then_recovers(outage: tuple[Case, Restartable]) -> None:
    _, own = outage
    store = statekit.open_store(own.url)
    try:
        store.put("f/a", 1)
        kept = store.put("f/keep", "k")
        own.stop()

        def unavailable(call: Callable[[], object]) -> None:
            timed_unavailable(call, backend=store.backend.name)

        unavailable(lambda: store.get("f/a"))
        unavailable(lambda: store.put("f/b", 2, if_absent=True))
        unavailable(lambda: store.put("f/a", 5))
        unavailable(lambda: store.increment("f/n"))
        unavailable(lambda: store.delete("f/a"))
        unavailable(lambda: store.transact([Put("f/c", 3), Put("f/d", 4)]))
        unavailable(lambda: store.list("f/"))
        started = time.monotonic()
        # Two partitions, and more than one DynamoDB batch chunk in the first.
        result = store.put_many({**{f"f/m{i}": i for i in range(30)}, "g/m": 30})
        assert time.monotonic() - started < BOUND_SECONDS
        assert not result.succeeded and len(result.failed) == 31
        assert all(isinstance(e, BackendUnavailable) for e in result.failed.values())

        own.restart()
        missing = ["f/b", "f/c", "f/d", "f/n", "f/m0", "f/m29", "g/m"]
        if own.keeps_data:
            # What was written before the stop is intact; nothing of the failed calls is there.
            assert store.get("f/keep") == kept
            assert store.get("f/a").value == 1  # type: ignore[union-attr]
            assert store.list("f/").keys == ["f/a", "f/keep"]
            before = ["f/keep"]
        else:
            missing += ["f/a", "f/keep"]
            before = []
        assert store.get_many(missing) == dict.fromkeys(missing)
        store.put("f/a", 2)
        assert store.get("f/a").value == 2  # type: ignore[union-attr]
        assert store.increment("f/n") == 1
        assert store.list("f/").keys == sorted(["f/a", "f/n", *before])
    finally:
        store.close()
