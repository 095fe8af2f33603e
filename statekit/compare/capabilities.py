"""The capability matrix: conformance results per backend, from the suites' report files.

Reads ``.statekit/reports/conformance-<suite>.json`` (written by
tests/conformance/conftest.py): per backend, per test, the outcome and reason.
A skip whose reason says the backend does not declare the capability is shown as
*unsupported*; other skips keep their reason (e.g. an optional extra missing).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_UNSUPPORTED_HINTS = (
    "declares no",
    "does not declare",
    "not declared",
    "unsupported",
    "not supported",
    "checked by",
    "needs ",
)


@dataclass(frozen=True)
class Cell:
    outcome: str  # passed | failed | xfailed | xpassed | unsupported | skipped
    reason: str = ""


@dataclass
class SuiteMatrix:
    suite: str
    written_at: str
    file: Path
    backends: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def counts(self, backend: str) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (name, _), cell in self.cells.items():
            if name == backend:
                totals[cell.outcome] = totals.get(cell.outcome, 0) + 1
        return totals


def classify(entry: Mapping[str, object]) -> Cell:
    outcome = str(entry.get("outcome", "unknown"))
    reason = str(entry.get("reason", "") or "")
    if outcome == "skipped":
        cleaned = reason.removeprefix("Skipped: ")
        if any(hint in cleaned.lower() for hint in _UNSUPPORTED_HINTS):
            return Cell("unsupported", cleaned)
        return Cell("skipped", cleaned)
    return Cell(outcome, reason)


def load_matrices(report_dir: Path) -> tuple[list[SuiteMatrix], list[str]]:
    """All suites' matrices, and notes for files that could not be read."""
    matrices, notes = [], []
    for file in sorted(report_dir.glob("conformance-*.json")):
        try:
            data = json.loads(file.read_text())
            backends = data["backends"]
            if not isinstance(backends, dict):
                raise TypeError("'backends' is not an object")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            notes.append(f"{file}: not a conformance report ({exc}); rerun the suite")
            continue
        matrix = SuiteMatrix(
            suite=str(data.get("suite", file.stem.removeprefix("conformance-"))),
            written_at=str(data.get("written_at", "?")),
            file=file,
        )
        matrix.backends = sorted(backends)
        tests: set[str] = set()
        for backend, results in backends.items():
            for test, entry in results.items():
                tests.add(test)
                matrix.cells[(backend, test)] = classify(entry if isinstance(entry, dict) else {})
        matrix.tests = sorted(tests)
        matrices.append(matrix)
    return matrices, notes
