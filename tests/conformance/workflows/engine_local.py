"""The saga in the local executor over the embedded default store (SQLite)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any
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
        self.client.start(ORDER_SAGA, scenario.order, run_id)  # returns at once
        with contextlib.suppress(WorkflowFailed):
            self.client.result(run_id, wait=60)  # the background driver runs it
        seconds = time.monotonic() - began
        run = self.client.status(run_id)
        attempts = [
            entry for entry in self.client.history(run_id) if entry.kind in ("step", "undo")
        ]
        return Outcome(
            status=run.status,
            output=run.output,
            failed_step=(run.error or {}).get("step"),
            error=run.error,
            compensations=tuple(run.compensated),
            calls=[str(entry.activity) for entry in attempts],
            seconds=seconds,
        )


class LocalLongRunning:
    """The long-running cases on the local executor: SQLite store, a manual clock,
    ``run_pending()`` as the driver, so waits and timeouts take no real time."""

    name = "local"

    def __init__(self, workdir: Path) -> None:
        from statekit.store import open_store
        from statekit.workflows.engines.local.client import ManualClock
        from tests.conformance.workflows.long_running import ACTIVITIES

        self.clock = ManualClock()
        self.client = LocalWorkflows(
            open_store(f"sqlite:///{workdir / 'long-running.db'}"),
            clock=self.clock,
            background=False,
            activities=ACTIVITIES,
        )

    def start(
        self, workflow: Any, payload: Any, run_id: str, on_conflict: str = "use_existing"
    ) -> Any:
        return self.client.start(workflow, payload, run_id, on_conflict=on_conflict)

    def tick(self, run_id: str) -> None:
        self.client.run_pending()

    def waiting_for_event(self, run_id: str) -> bool:
        return self.client.status(run_id).step == "approval"

    def let_time_pass(self, run_id: str) -> None:
        self.clock.advance(3600)
        self.client.run_pending()

    def compensations(self, run: Any) -> tuple[str, ...]:
        return tuple(run.compensated)
