"""Latency and throughput per operation per backend, from ``.statekit/reports/bench-*.json``.

The reader accepts the format documented in docs/compare.md::

    {"benchmark": "store", "written_at": "2026-11-26T16:30:00Z",
     "where": "stand-in: moto 5.2 on 127.0.0.1",
     "results": [{"backend": "dynamodb", "operation": "get",
                  "p50_ms": 1.9, "p95_ms": 4.1, "ops_per_s": 420, "where": "..."}]}

and the nested form ``{"backends": {"dynamodb": {"get": {...}}}}``. Microsecond
fields (``p50_us``) are converted; ``where`` and ``written_at`` are shown with
every figure, because a stand-in on a laptop is not a deployed service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Measurement:
    benchmark: str
    backend: str
    operation: str
    p50_ms: float | None
    p95_ms: float | None
    ops_per_s: float | None
    where: str
    measured_at: str


def _ms(entry: dict[str, Any], name: str) -> float | None:
    for key, factor in (
        (f"{name}_ms", 1.0),
        (name, 1.0),
        (f"{name}_us", 0.001),
        (f"{name}_s", 1000.0),
    ):
        value = entry.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value) * factor
    return None


def _throughput(entry: dict[str, Any]) -> float | None:
    for key in ("ops_per_s", "ops_per_second", "throughput", "throughput_ops_s", "ops_s"):
        value = entry.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def _entries(data: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(data.get("results"), list):
        return [entry for entry in data["results"] if isinstance(entry, dict)]
    flattened = []
    for backend, operations in (data.get("backends") or {}).items():
        for operation, entry in (operations or {}).items():
            if isinstance(entry, dict):
                flattened.append({"backend": backend, "operation": operation, **entry})
    return flattened


def load_measurements(report_dir: Path) -> tuple[list[Measurement], list[str]]:
    measurements, notes = [], []
    for file in sorted(report_dir.glob("bench-*.json")):
        try:
            data = json.loads(file.read_text())
            if not isinstance(data, dict):
                raise TypeError("top level is not an object")
        except (OSError, ValueError, TypeError) as exc:
            notes.append(f"{file}: not a benchmark report ({exc}); rerun the benchmark")
            continue
        name = str(data.get("benchmark", file.stem.removeprefix("bench-")))
        when = str(data.get("written_at") or data.get("measured_at") or "when: not recorded")
        where = str(data.get("where") or data.get("target") or "where: not recorded")
        entries = _entries(data)
        if not entries:
            notes.append(f"{file}: no results in a known shape (see docs/compare.md)")
        for entry in entries:
            measurements.append(
                Measurement(
                    benchmark=name,
                    backend=str(entry.get("backend", "?")),
                    operation=str(entry.get("operation", entry.get("op", "?"))),
                    p50_ms=_ms(entry, "p50"),
                    p95_ms=_ms(entry, "p95"),
                    ops_per_s=_throughput(entry),
                    where=str(entry.get("where") or where),
                    measured_at=str(entry.get("written_at") or when),
                )
            )
    return measurements, notes
