"""Reading the suites' and benchmarks' report files: shapes, units, and notes for broken files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statekit.compare.capabilities import classify, load_matrices
from statekit.compare.performance import load_measurements


def test_results_list_with_microseconds_is_converted(tmp_path: Path) -> None:
    (tmp_path / "bench-store.json").write_text(
        json.dumps(
            {
                "written_at": "2026-11-26T16:00:00Z",
                "where": "stand-ins",
                "results": [
                    {
                        "backend": "sqlite",
                        "operation": "get",
                        "p50_us": 20,
                        "p95_us": 45,
                        "ops_per_s": 40000,
                    }
                ],
            }
        )
    )
    [m], notes = load_measurements(tmp_path)
    assert m.p50_ms == pytest.approx(0.02)
    assert m.p95_ms == pytest.approx(0.045)
    assert m.ops_per_s == 40000
    assert (m.where, m.measured_at, m.benchmark) == ("stand-ins", "2026-11-26T16:00:00Z", "store")
    assert notes == []


def test_nested_form_and_a_per_result_where(tmp_path: Path) -> None:
    (tmp_path / "bench-queue.json").write_text(
        json.dumps(
            {
                "benchmark": "queue",
                "backends": {
                    "sqs": {
                        "send": {
                            "p50_ms": 4,
                            "p95_ms": 9,
                            "throughput": 120,
                            "where": "deployed eu-west-1",
                        }
                    }
                },
            }
        )
    )
    [m], _ = load_measurements(tmp_path)
    assert (m.backend, m.operation, m.ops_per_s, m.where) == (
        "sqs",
        "send",
        120,
        "deployed eu-west-1",
    )
    assert m.measured_at == "when: not recorded"


def test_broken_report_files_become_notes(tmp_path: Path) -> None:
    (tmp_path / "bench-bad.json").write_text("{not json")
    (tmp_path / "conformance-bad.json").write_text(json.dumps({"suite": "x"}))
    measurements, bench_notes = load_measurements(tmp_path)
    matrices, conformance_notes = load_matrices(tmp_path)
    assert measurements == [] and matrices == []
    assert "bench-bad.json: not a benchmark report" in bench_notes[0]
    assert "conformance-bad.json: not a conformance report" in conformance_notes[0]


@pytest.mark.parametrize(
    ("entry", "outcome"),
    [
        ({"outcome": "passed"}, "passed"),
        ({"outcome": "xfailed", "reason": "stand-in deviation"}, "xfailed"),
        ({"outcome": "skipped", "reason": "Skipped: backend declares no TTL"}, "unsupported"),
        ({"outcome": "skipped", "reason": "ordering not declared by this backend"}, "unsupported"),
        (
            {
                "outcome": "skipped",
                "reason": "Skipped: optional extra missing (boto3 not installed)",
            },
            "skipped",
        ),
        ({"outcome": "failed"}, "failed"),
    ],
)
def test_outcomes_are_classified(entry: dict[str, str], outcome: str) -> None:
    assert classify(entry).outcome == outcome
