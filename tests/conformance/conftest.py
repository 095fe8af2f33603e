"""Hooks of every conformance suite: strict xfails from the cases, and the results artifact

Every test result is recorded per backend in
``.statekit/reports/conformance-<suite>.json`` (passed, failed, xfailed with its
reason, skipped with its reason) so the capability matrix is measured, not typed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.registry import SUITES, Case

REPORT_DIR = Path(__file__).resolve().parents[2] / ".statekit" / "reports"


def _case_of(item: pytest.Item) -> tuple[str, Case] | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    for suite, cases in SUITES.items():
        name = callspec.params.get(f"{suite}_case")
        if name is not None:
            return suite, cases[name]
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        found = _case_of(item)
        if found is None:
            continue
        _, case = found
        test_name = item.originalname if isinstance(item, pytest.Function) else item.name
        # A key names a whole test, or one parametrized instance (``item.name``, with its ids).
        reason = case.xfail.get(item.name) or case.xfail.get(test_name)
        if reason:
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))


_results: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    found = _case_of(item)
    if found is None or (report.when != "call" and not report.skipped and report.passed):
        return
    suite, case = found
    test_name = item.originalname if isinstance(item, pytest.Function) else item.name
    if report.when == "call" or report.skipped or report.failed:
        entry: dict[str, Any] = {"outcome": report.outcome}
        if hasattr(report, "wasxfail"):
            entry = {
                "outcome": "xfailed" if report.skipped else "xpassed",
                "reason": report.wasxfail,
            }
        elif report.skipped and isinstance(report.longrepr, tuple):
            entry["reason"] = str(report.longrepr[2])
        tests = _results.setdefault(suite, {}).setdefault(case.name, {})
        # Parametrized variants of one test: the worst outcome stands for the test.
        previous = tests.get(test_name)
        if previous is None or previous["outcome"] == "passed":
            tests[test_name] = entry


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not _results or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    for suite, backends in _results.items():
        path = REPORT_DIR / f"conformance-{suite}.json"
        previous: dict[str, Any] = {}
        if path.exists():
            try:
                previous = json.loads(path.read_text())
            except ValueError:
                previous = {}
        merged = previous.get("backends", {})
        merged.update(backends)  # a partial run keeps the other backends' last results
        payload = {
            "suite": suite,
            "written_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "backends": merged,
        }
        path.write_text(json.dumps(payload, indent=2, sort_keys=True))
