"""The store benchmark runs a target end to end and writes what ``statekit compare`` reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import store_backends
from statekit.compare.performance import load_measurements


def test_redis_target_runs_and_reports_calls_per_operation(tmp_path: Path) -> None:
    pytest.importorskip("redis")
    report = tmp_path / "bench-store.json"
    report.write_text(json.dumps({"results": [{"backend": "other", "operation": "get"}]}))
    code = store_backends.main(
        ["redis", "--iterations", "3", "--min-seconds", "0", "--json", str(report)]
    )
    assert code == 0
    data = json.loads(report.read_text())
    rows = {r["operation"]: r for r in data["results"] if r["backend"] == "redis"}
    assert set(rows) == set(store_backends.OPERATIONS)
    assert all(r["error"] is None for r in rows.values())
    # One round trip each, on both sides; put_many(100) is one pipeline.
    assert {op: r["round_trips"] for op, r in rows.items()} == dict.fromkeys(rows, 1)
    assert {op: r["raw_round_trips"] for op, r in rows.items()} == dict.fromkeys(rows, 1)
    assert any(r["backend"] == "other" for r in data["results"])  # other targets kept
    measurements, notes = load_measurements(tmp_path)
    assert not notes
    assert {m.operation for m in measurements if m.backend == "redis"} == set(rows)
    assert all("redis-server" in m.where for m in measurements if m.backend == "redis")


def test_unknown_target_is_refused() -> None:
    with pytest.raises(SystemExit):
        store_backends.main(["no-such-backend"])
