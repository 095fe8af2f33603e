"""The saga in the local executor over the embedded default store (SQLite)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from urllib.parse import quote

from handlers.saga import ORDER_SAGA
from statekit.workflows import WorkflowFailed, open_workflows
from statekit.workflows.engines.local.client import LocalWorkflows
from tests.conformance.workflows.outcome import Outcome
from tests.conformance.workflows.saga_script import Scenario


def local_url(db: Path, lease_seconds: float | None = None) -> str:
    url = "local://?store=" + quote(f"sqlite:///{db}", safe="")
    return url + (f"&lease_seconds={lease_seconds}" if lease_seconds else "")


class LocalEngine:
    def __init__(self, workdir: Path) -> None:
        client = open_workflows(local_url(workdir / "workflows.db"))
        assert isinstance(client, LocalWorkflows)
        self.client = client

    def run(self, scenario: Scenario) -> Outcome:
        run_id = scenario.order["order_id"]
        began = time.monotonic()
        self.client.start(ORDER_SAGA, scenario.order, run_id)
        seconds = time.monotonic() - began
        run = self.client.status(run_id)
        with contextlib.suppress(WorkflowFailed):
            self.client.result(run_id)
        attempts = [
            event
            for event in self.client.history(run_id)
            if event["event"] in ("step_attempt", "undo_attempt")
        ]
        return Outcome(
            status=run.status,
            output=run.output,
            failed_step=(run.error or {}).get("step"),
            error=run.error,
            compensations=tuple(run.compensated),
            calls=[event["activity"] for event in attempts],
            seconds=seconds,
        )
