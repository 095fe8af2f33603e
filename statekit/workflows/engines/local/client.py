"""The local workflow executor: the embedded default (``local://``).

Runs live in a statekit store (SQLite under ``.statekit/`` by default; see
records.py for the keys). ``start`` writes the run and returns at once; a
driver thread that the client starts in this process (the first time it
starts a run, takes an event or is asked with ``run_in_background()``)
advances every due run, a few at a time, and wakes up for timers, events and
runs started by other processes (polling every ``poll_seconds``). Tests pass
``background=False`` and a ``ManualClock`` and call ``run_pending()``, which
drives every due run to its next wait in the calling thread.

A run is driven by one driver at a time (a lease in its record, every write
conditional on the etag). A driver whose process died is replaced at once: the
lease names its process. Timers and events are in the store, so a run waiting
for a day survives a restart. Activities run at least once (an attempt
interrupted by a crash runs again), so they must be idempotent, as on every engine.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from statekit.errors import Conflict, InvalidURL, InvalidValue
from statekit.observability.workflows import count_run_ended
from statekit.store import Item, Store, open_store
from statekit.urls import ConnectionURL
from statekit.workflows.definition import (
    CANCELLED,
    FINAL_STATUSES,
    KNOWN_WORKFLOWS,
    RUNNING,
    RunPage,
    StepRecord,
    Workflow,
    WorkflowDefinitionError,
    WorkflowIdInUse,
    WorkflowNotFound,
    WorkflowRun,
    check_on_conflict,
    check_run_id,
    wait_for_result,
    workflow_name,
)
from statekit.workflows.engines.local.clock import Clock, ManualClock, SystemClock
from statekit.workflows.engines.local.driver import Activity, LeaseLost, RunDriver, new_record
from statekit.workflows.engines.local.records import (
    ACTIVE,
    RUNS,
    active_key,
    event_key,
    new_owner,
    run_key,
)

logger = logging.getLogger(__name__)
DEFAULT_LEASE_SECONDS = 60.0
DEFAULT_POLL_SECONDS = 0.5
DEFAULT_WORKERS = 4

__all__ = ["LocalWorkflows", "ManualClock", "run_key"]


class LocalWorkflows:
    """``local://[?store=URL&lease_seconds=N&background=false&workers=N]``."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        activities: Mapping[str, Activity] | None = None,
        clock: Clock | None = None,
        background: bool = True,
        workers: int = DEFAULT_WORKERS,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
    ) -> None:
        self.store = store if store is not None else open_store()
        self.lease_seconds = lease_seconds
        self.activities = dict(activities or {})
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.background = background
        self.workers = workers
        self.poll_seconds = poll_seconds
        self.owner = new_owner()
        self._definitions: dict[str, Workflow] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._driver: threading.Thread | None = None
        self._claimed: set[str] = set()
        self._claim_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: ConnectionURL) -> LocalWorkflows:
        url.require_known_params({"store", "lease_seconds", "background", "workers"})
        if url.host or url.path.strip("/"):
            raise url.error("local:// takes no host or path; name the store with ?store=")
        lease = url.param("lease_seconds")
        try:
            lease_seconds = float(lease) if lease else DEFAULT_LEASE_SECONDS
        except ValueError:
            raise url.error(f"lease_seconds must be a number, got {lease!r}") from None
        if lease_seconds <= 0:
            raise url.error("lease_seconds must be > 0")
        background = (url.param("background") or "true").lower()
        if background not in ("true", "false"):
            raise url.error(f"background must be true or false, got {background!r}")
        workers_text = url.param("workers") or str(DEFAULT_WORKERS)
        if not workers_text.isdigit() or int(workers_text) < 1:
            raise url.error(f"workers must be a whole number >= 1, got {workers_text!r}")
        try:
            store = open_store(url.param("store")) if url.param("store") else open_store()
        except InvalidURL as exc:
            raise url.error(f"its store URL is invalid: {exc}") from None
        return cls(
            store,
            lease_seconds=lease_seconds,
            background=background == "true",
            workers=int(workers_text),
        )

    # -- the client API ----------------------------------------------------------------
    def register(self, workflow: Workflow) -> None:
        """Make ``workflow`` known here (every Workflow built in this process already is)."""
        self._definitions[workflow.name] = workflow

    def start(
        self, workflow: Workflow | str, input: Any, id: str, on_conflict: str = "use_existing"
    ) -> WorkflowRun:
        """Write run ``id`` and return at once; the driver runs it.

        ``on_conflict``: ``"use_existing"`` returns the run already started with this
        id (the same workflow and input, else ``WorkflowIdInUse``); ``"fail"`` raises
        ``WorkflowIdInUse`` for any run with this id."""
        run_id = check_run_id(id)
        check_on_conflict(on_conflict)
        if isinstance(workflow, Workflow):
            self.register(workflow)
        definition = self._definition(workflow_name(workflow))
        canonical = json.loads(json.dumps(input))
        if not isinstance(canonical, dict):
            raise InvalidValue(run_key(run_id), "a workflow's input must be a JSON object")
        record = new_record(definition, canonical, self.clock.now())
        try:
            self.store.put(run_key(run_id), record, if_absent=True)
        except Conflict:
            existing = self._item(run_id).value
            if on_conflict == "fail":
                raise WorkflowIdInUse(run_id, "a run with this id exists") from None
            if existing["workflow"] != definition.name:
                raise WorkflowIdInUse(run_id, f"it is a run of {existing['workflow']!r}") from None
            if existing["input"] != canonical:
                raise WorkflowIdInUse(run_id, "it was started with a different input") from None
            return self.status(run_id)
        self.set_due(run_id, self.clock.now())
        self._kick()
        return self.status(run_id)

    def send_event(self, run_id: str, event: str, payload: Any = None) -> None:
        """Deliver ``event`` to run ``run_id``; kept until the run waits for it."""
        run_id = check_run_id(run_id)
        record = self._item(run_id).value
        body = {"payload": json.loads(json.dumps(payload)), "sent": self.clock.now()}
        self.store.put(event_key(run_id, event), body)
        if record["status"] == RUNNING:
            self.set_due(run_id, self.clock.now())
            for child in self._children(run_id):
                self.set_due(child, self.clock.now())
            self._kick()

    def cancel(self, run_id: str) -> WorkflowRun:
        """Stop run ``id`` (and its branches) where it is; nothing is undone."""
        self.cancel_tree(check_run_id(run_id))
        return self.status(run_id)

    def status(self, id: str) -> WorkflowRun:
        run_id = check_run_id(id)
        return self._run_of(run_id, self._item(run_id).value)

    def list(
        self,
        workflow: str | None = None,
        status: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        """Runs (not their branches), oldest id first, filtered; ``cursor`` pages on."""
        found: builtins.list[WorkflowRun] = []
        while len(found) < limit:
            page = self.store.list(RUNS, limit=limit, cursor=cursor)
            for item in page.items:
                value = item.value
                wanted = workflow in (None, value["workflow"]) and status in (None, value["status"])
                if value["parent"] is None and wanted:
                    found.append(self._run_of(item.key[len(RUNS) :], value))
            cursor = page.cursor
            if cursor is None:
                break
        return RunPage(found, cursor)

    def history(self, run_id: str) -> builtins.list[StepRecord]:
        """Every attempt of every step (and undo, wait, event), oldest first; a
        Parallel's or Map's bodies are listed after it, with their step names."""
        run_id = check_run_id(run_id)
        entries = [StepRecord(**entry) for entry in self._item(run_id).value["steps"]]
        for child in self._children(run_id, every=True):
            item = self.store.get(run_key(child))
            if item is not None:
                entries += [StepRecord(**entry) for entry in item.value["steps"]]
        return entries

    def result(self, id: str, wait: float = 0.0) -> Any:
        return wait_for_result(self.status, id, wait, first_delay=0.02, max_delay=0.05)

    def resume(self, id: str) -> WorkflowRun:
        """Drive run ``id`` on in this thread, if no live driver holds it."""
        self._drive(check_run_id(id))
        return self.status(id)

    def run_pending(self) -> int:
        """Drive every due run to its next wait (or end), here; returns how many advanced."""
        advanced = 0
        while True:
            progressed = 0
            for run_id in self._due():
                if self._drive(run_id):
                    progressed += 1
            if not progressed:
                return advanced
            advanced += progressed

    def run_in_background(self) -> None:
        """Start this process's driver thread (idempotent)."""
        with self._claim_lock:
            if self._driver is None or not self._driver.is_alive():
                self._stop.clear()
                self._driver = threading.Thread(
                    target=self._background, name="statekit-workflows", daemon=True
                )
                self._driver.start()

    def close(self) -> None:
        """Stop the driver thread (runs stay in the store)."""
        self._stop.set()
        self._wake.set()
        if self._driver is not None:
            self._driver.join(timeout=10)

    # -- used by the drivers --------------------------------------------------------------
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

    def set_due(self, run_id: str, due: float | None, *, if_match: str | None = None) -> None:
        """When run ``id`` is next due; a wake-up since ``if_match`` makes it due now."""
        try:
            self.store.put(active_key(run_id), {"due": due}, if_match=if_match)
        except Conflict:  # woken (or ended) meanwhile: look again at once
            if self.store.get(run_key(run_id)) is not None:
                self.store.put(active_key(run_id), {"due": self.clock.now()})
        if due is not None:
            self._wake.set()

    def ended(self, run_id: str, record: dict[str, Any]) -> None:
        """A run ended: it leaves the active set and wakes the run waiting for it."""
        self.store.delete(active_key(run_id))
        if record["parent"]:
            self.set_due(record["parent"], self.clock.now())

    def create_child(
        self, child_id: str, body: Workflow, payload: Any, *, parent: str, root: str
    ) -> None:
        record = new_record(body, payload, self.clock.now(), parent=parent, root=root)
        with contextlib.suppress(Conflict):  # created before a crash: the same child
            self.store.put(run_key(child_id), record, if_absent=True)
            self.set_due(child_id, self.clock.now())

    def cancel_tree(self, run_id: str) -> None:
        def stop(value: Any) -> Any:
            if value is None or value["status"] not in (RUNNING,):
                return value
            return {**value, "status": CANCELLED, "ended": self.clock.now(), "lease": None}

        if self.store.get(run_key(run_id)) is None:
            raise WorkflowNotFound(run_id)
        self.store.update(run_key(run_id), stop)
        self.store.delete(active_key(run_id))
        for child in self._children(run_id):
            self.cancel_tree(child)

    # -- internals ------------------------------------------------------------------------
    def _kick(self) -> None:
        if self.background:
            self.run_in_background()
        self._wake.set()

    def _definition(self, name: str) -> Workflow:
        definition = self._definitions.get(name) or KNOWN_WORKFLOWS.get(name)
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

    def _run_of(self, run_id: str, record: dict[str, Any]) -> WorkflowRun:
        waiting = record["status"] == RUNNING
        return WorkflowRun(
            id=run_id,
            workflow=record["workflow"],
            status=record["status"],
            output=record["output"],
            error=record["error"] if record["status"] not in (RUNNING, CANCELLED) else None,
            compensated=tuple(record["compensations"]),
            step=record["at"] if waiting else None,
            state=record["state"],
        )

    def _children(self, run_id: str, *, every: bool = False) -> builtins.list[str]:
        """Ids of the branches and items of run ``id`` (all of them, nested, with ``every``)."""
        found = []
        for item in self.store.iter_prefix(f"{RUNS}{run_id}:"):
            child = item.key[len(RUNS) :]
            if every or item.value["parent"] == run_id:
                found.append(child)
        return found

    def _due(self) -> builtins.list[str]:
        now = self.clock.now()
        due = []
        for item in self.store.iter_prefix(ACTIVE):
            when = item.value.get("due")
            if when is not None and when <= now:
                due.append(item.key[len(ACTIVE) :])
        return due

    def _next_due(self) -> float | None:
        times = [item.value["due"] for item in self.store.iter_prefix(ACTIVE)]
        known = [when for when in times if when is not None]
        return min(known) if known else None

    def _drive(self, run_id: str) -> bool:
        """Drive run ``id`` until it waits or ends; True when it advanced."""
        active = self.store.get(active_key(run_id))
        item = self.store.get(run_key(run_id))
        if item is None or item.value["status"] in FINAL_STATUSES:
            self.store.delete(active_key(run_id))
            return False
        try:
            root = self._definition(item.value["workflow"])
        except WorkflowDefinitionError:
            return False  # a workflow of another process: that one drives it
        run = RunDriver(self, root.scope(item.value["scope"]), item, active)
        if not run.acquire():
            return False
        try:
            while run.record["status"] == RUNNING:
                if run.record["phase"] == "forward":
                    block = run.forward()
                    if block is not None:
                        run.release(block)
                        break
                else:
                    run.compensate()
        except LeaseLost:
            return run.advanced
        if run.record["status"] in FINAL_STATUSES and item.value["scope"] == "":
            count_run_ended("local", root.name, run.record["status"])
        return run.advanced

    def _background(self) -> None:
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="statekit-run")
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    due = self._due()
                except Exception:  # the store is briefly unavailable: try again
                    due = []
                for run_id in due:
                    with self._claim_lock:
                        if run_id in self._claimed:
                            continue
                        self._claimed.add(run_id)
                    pool.submit(self._drive_claimed, run_id)
                try:
                    upcoming = self._next_due()
                except Exception:
                    upcoming = None
                pause = self.poll_seconds
                if upcoming is not None and isinstance(self.clock, SystemClock):
                    pause = min(pause, max(0.0, upcoming - self.clock.now()))
                self._wake.wait(pause)
        finally:
            pool.shutdown(wait=False)

    def _drive_claimed(self, run_id: str) -> None:
        try:
            self._drive(run_id)
        except Exception:  # a broken run must not stop the driver thread
            logger.exception("statekit: driving workflow run %r failed", run_id)
        finally:
            with self._claim_lock:
                self._claimed.discard(run_id)
            self._wake.set()
