"""DynamoDB stand-in stopped mid-run: bounded BackendUnavailable, nothing half-applied, recovery.

moto server keeps its state in memory; with its request recorder on, the restarted
server replays every request the old one received, so the check after the restart
sees what was written before the stop and nothing of the calls made while it was down.
"""

from __future__ import annotations

import time
import urllib.request
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


class RecordingMoto(moto_module.MotoServer):
    """moto server that records every request, to rebuild its state after a restart."""

    def process_env(self) -> dict[str, str]:
        return {
            **super().process_env(),
            "MOTO_ENABLE_RECORDING": "1",
            "MOTO_RECORDER_FILEPATH": str(self.workdir / "requests.jsonl"),
        }

    def replay(self) -> None:
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/recorder/replay-recording", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=60):
            pass


@pytest.fixture
def moto(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingMoto]:
    server = RecordingMoto(tmp_path)  # our own: other suites never see it down
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


def test_stopped_dynamodb_raises_then_recovers(moto: RecordingMoto) -> None:
    create_store_table(moto.endpoint, TABLE)
    store = statekit.open_store(f"dynamodb://{TABLE}?region=us-east-1&endpoint={moto.endpoint}")
    try:
        store.put("f/a", 1)
        kept = store.put("f/keep", "k")
        moto.stop()

        timed_unavailable(lambda: store.get("f/a"))
        timed_unavailable(lambda: store.put("f/b", 2, if_absent=True))
        timed_unavailable(lambda: store.increment("f/n"))
        timed_unavailable(lambda: store.transact([Put("f/c", 3), Put("f/d", 4)]))
        started = time.monotonic()
        result = store.put_many({f"f/m{i}": i for i in range(30)})  # two batch chunks
        assert time.monotonic() - started < BOUND_SECONDS
        assert not result.succeeded and len(result.failed) == 30
        assert all(isinstance(e, BackendUnavailable) for e in result.failed.values())

        moto.start()  # same port: the client made before the stop reaches it
        moto.replay()
        assert store.get("f/keep") == kept  # written before the stop: intact
        missing = ["f/b", "f/n", "f/c", "f/d", "f/m0", "f/m29"]
        assert store.get_many(missing) == dict.fromkeys(missing)  # nothing half-applied
        assert store.list("f/").keys == ["f/a", "f/keep"]
        store.put("f/a", 2)
        assert store.get("f/a").value == 2  # type: ignore[union-attr]
        assert store.increment("f/n") == 1
    finally:
        store.close()
