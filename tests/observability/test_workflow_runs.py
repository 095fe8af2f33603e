"""Workflow runs started and ended by status (``statekit.workflow.runs``) on the local executor."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from statekit.workflows import Step, Workflow, open_workflows
from tests.observability.telemetry_fixture import Captured


def _fail(value: object) -> object:
    raise RuntimeError("card declined")


def test_runs_started_and_ended_are_counted_by_status(telemetry: Captured, tmp_path: Path) -> None:
    client = open_workflows("local://?store=" + quote(f"sqlite:///{tmp_path}/wf.db", safe=""))
    ok = Workflow("ok", [Step("one", activity="one")], activities={"one": lambda v: v})
    bad = Workflow("bad", [Step("one", activity="charge")], activities={"charge": _fail})
    client.start(ok, {"n": 1}, "run-ok-1")
    client.start(ok, {"n": 2}, "run-ok-2")
    client.start(bad, {"n": 3}, "run-bad-1")
    # start returns at once; the in-process driver ends the runs.
    for run_id in ("run-ok-1", "run-ok-2", "run-bad-1"):
        wait_until_ended(client, run_id)

    counted = {
        (
            attributes["statekit.workflow.name"],
            attributes["statekit.workflow.event"],
            attributes.get("statekit.workflow.status"),
        ): point.value
        for attributes, point in telemetry.points("statekit.workflow.runs")
    }
    assert counted == {
        ("ok", "started", None): 2,
        ("bad", "started", None): 1,
        ("ok", "ended", "succeeded"): 2,
        ("bad", "ended", "failed"): 1,
    }


def wait_until_ended(client: Any, run_id: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while client.status(run_id).status == "running":
        assert time.monotonic() < deadline, f"{run_id} did not end"
        time.sleep(0.05)
