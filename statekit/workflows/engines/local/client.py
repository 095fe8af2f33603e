"""The local workflow executor: the embedded default (``local://``).

It runs a definition in the calling process and writes the run's progress to a
statekit store after every attempt, under ``wf-<id>/run``. The record is
created with ``if_absent`` (a second ``start`` with the same id is the same
run) and every later write is conditional on the etag, so two processes never
both drive one run. The driver (driver.py) holds a lease
(``lease_seconds``, 60 by default) that it renews on each write and every third
of it while an activity runs, so a long activity keeps its run, and a run whose
driver died (killed mid-way) is resumed by the next ``start`` or ``resume``
once the lease has lapsed, from the step it was at. An attempt that was
interrupted counts as made: activities run at least once, so they must be
idempotent (as on every engine).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from statekit.errors import Conflict, InvalidURL, InvalidValue
from statekit.store import Item, Store, open_store
from statekit.urls import ConnectionURL
from statekit.workflows.definition import (
    RUNNING,
    Workflow,
    WorkflowDefinitionError,
    WorkflowIdInUse,
    WorkflowNotFound,
    WorkflowRun,
    check_run_id,
    wait_for_result,
    workflow_name,
)
from statekit.workflows.engines.local.driver import Activity, LeaseLost, RunDriver

DEFAULT_LEASE_SECONDS = 60.0


def run_key(run_id: str) -> str:
    return f"wf-{run_id}/run"


class LocalWorkflows:
    """``local://[?store=URL&lease_seconds=N]``: runs workflows in-process over a store."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        activities: Mapping[str, Activity] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store if store is not None else open_store()
        self.lease_seconds = lease_seconds
        self.activities = dict(activities or {})
        self.sleep = sleep
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._definitions: dict[str, Workflow] = {}

    @classmethod
    def from_url(cls, url: ConnectionURL) -> LocalWorkflows:
        url.require_known_params({"store", "lease_seconds"})
        if url.host or url.path.strip("/"):
            raise url.error("local:// takes no host or path; name the store with ?store=")
        lease = url.param("lease_seconds")
        try:
            lease_seconds = float(lease) if lease else DEFAULT_LEASE_SECONDS
        except ValueError:
            raise url.error(f"lease_seconds must be a number, got {lease!r}") from None
        if lease_seconds <= 0:
            raise url.error("lease_seconds must be > 0")
        try:
            store = open_store(url.param("store")) if url.param("store") else open_store()
        except InvalidURL as exc:
            raise url.error(f"its store URL is invalid: {exc}") from None
        return cls(store, lease_seconds=lease_seconds)

    # -- the client API ----------------------------------------------------------------
    def register(self, workflow: Workflow) -> None:
        """Make ``workflow`` known so that ``resume`` and ``status`` can drive its runs."""
        self._definitions[workflow.name] = workflow

    def start(self, workflow: Workflow | str, input: Any, id: str) -> WorkflowRun:
        """Start (or join, or resume) run ``id`` and drive it to its end in this thread."""
        run_id = check_run_id(id)
        if isinstance(workflow, Workflow):
            self.register(workflow)
        definition = self._definition(workflow_name(workflow))
        canonical = json.loads(json.dumps(input))
        if not isinstance(canonical, dict):
            raise InvalidValue(run_key(run_id), "a workflow's input must be a JSON object")
        record = self._new_record(definition, canonical)
        try:
            item = self.store.put(run_key(run_id), record, if_absent=True)
        except Conflict:
            existing = self._item(run_id)
            if existing.value["workflow"] != definition.name:
                raise WorkflowIdInUse(
                    run_id, f"it is a run of {existing.value['workflow']!r}"
                ) from None
            if existing.value["input"] != canonical:
                raise WorkflowIdInUse(run_id, "it was started with a different input") from None
            item = existing
        self._drive(definition, item)
        return self.status(run_id)

    def resume(self, id: str) -> WorkflowRun:
        """Drive run ``id`` on from where it stopped, if its driver's lease has lapsed."""
        item = self._item(check_run_id(id))
        self._drive(self._definition(item.value["workflow"]), item)
        return self.status(id)

    def status(self, id: str) -> WorkflowRun:
        run_id = check_run_id(id)
        record = self._item(run_id).value
        return WorkflowRun(
            id=run_id,
            workflow=record["workflow"],
            status=record["status"],
            output=record["output"],
            error=record["error"],
            compensated=tuple(record["compensations"]),
        )

    def result(self, id: str, wait: float = 0.0) -> Any:
        return wait_for_result(self.status, id, wait, first_delay=0.05, max_delay=0.05)

    def history(self, id: str) -> list[dict[str, Any]]:
        """The run's events (step attempts, results, compensations), oldest first."""
        return list(self._item(check_run_id(id)).value["events"])

    # -- driving a run -------------------------------------------------------------------
    def _definition(self, name: str) -> Workflow:
        definition = self._definitions.get(name)
        if definition is None:
            raise WorkflowDefinitionError(
                name, None, "not known here: pass the Workflow to start() or register() it first"
            )
        return definition

    def _item(self, run_id: str) -> Item:
        item = self.store.get(run_key(run_id))
        if item is None:
            raise WorkflowNotFound(run_id)
        return item

    def _new_record(self, definition: Workflow, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "workflow": definition.name,
            "input": payload,
            "state": payload,
            "status": RUNNING,
            "phase": "forward",
            "at": definition.start,
            "attempt": 0,
            "completed": [],
            "undone": [],
            "compensations": [],
            "error": None,
            "compensation_error": None,
            "output": None,
            "lease": None,
            "events": [],
        }

    def _drive(self, definition: Workflow, item: Item) -> None:
        run = RunDriver(self, definition, item)
        if run.record["status"] != RUNNING or not run.acquire():
            return
        try:
            while run.record["status"] == RUNNING:
                if run.record["phase"] == "forward":
                    run.forward()
                else:
                    run.compensate()
        except LeaseLost:
            return

    def implementation(self, definition: Workflow, activity: str) -> Activity:
        found = self.activities.get(activity) or definition.implementations.get(activity)
        if found is None:
            raise WorkflowDefinitionError(
                definition.name,
                None,
                f"the local executor has no function for activity {activity!r}: give "
                "Workflow(activities=...) a mapping of name to function, or "
                "LocalWorkflows(activities=...)",
            )
        return found
