"""The local workflow executor: the embedded default (``local://``).

It runs a definition in the calling process and writes the run's progress to a
statekit store after every attempt, under ``wf-<id>/run``. The record is
created with ``if_absent`` (a second ``start`` with the same id is the same
run) and every later write is conditional on the etag, so two processes never
both drive one run. The driver holds a lease that it renews on each write; a
run whose driver died (killed mid-way) is resumed by the next ``start`` or
``resume`` once the lease has lapsed, from the step it was at. The driver renews
its lease (``lease_seconds``, 60 by default) every third of it while an activity
runs, so a long activity keeps its run and a dead driver's run is free to
resume within one lease. An attempt that
was interrupted counts as made: activities run at least once, so they must be
idempotent (as on every engine).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from statekit.errors import Conflict, InvalidURL, InvalidValue
from statekit.store import Item, Store, open_store
from statekit.urls import ConnectionURL
from statekit.workflows import (
    COMPENSATED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    Fail,
    Retry,
    Step,
    Workflow,
    WorkflowDefinitionError,
    WorkflowIdInUse,
    WorkflowNotFound,
    WorkflowRun,
    WorkflowTimeout,
    check_run_id,
    choose_next,
    map_input,
    result_of,
    workflow_name,
)

DEFAULT_LEASE_SECONDS = 60.0
MAX_EVENTS = 200  # keeps a run's record far below the store's value limit
Activity = Callable[[Any], Any]


class LeaseLost(Exception):
    """Another driver wrote the run; this one stops without side effects on the record."""


def run_key(run_id: str) -> str:
    return f"wf-{run_id}/run"


def error_of(exc: BaseException, step: str) -> dict[str, Any]:
    """An exception as the portable error: a stable name and a message for people."""
    name = getattr(exc, "error", None)
    message = getattr(exc, "message", None)
    return {
        "step": step,
        "error": name if isinstance(name, str) else type(exc).__name__,
        "message": message if isinstance(message, str) else str(exc),
    }


def call_with_timeout(activity: Activity, payload: Any, timeout: int | None) -> Any:
    """Run one attempt; past ``timeout`` the attempt fails (its thread cannot be stopped)."""
    if timeout is None:
        return activity(payload)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = activity(payload)
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="statekit-activity")
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"activity did not finish within {timeout} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


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
        deadline = time.monotonic() + wait
        while True:
            run = self.status(id)
            if run.done:
                return result_of(run)
            if time.monotonic() >= deadline:
                raise WorkflowTimeout(f"workflow run {id!r} is still {run.status} after {wait} s")
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

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
        run = _Run(self, definition, item)
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


class _Run:
    """One driver's hold on one run: every change is written with the last etag."""

    def __init__(self, engine: LocalWorkflows, definition: Workflow, item: Item) -> None:
        self.engine = engine
        self.definition = definition
        self.key = item.key
        self.etag = item.etag
        self.record: dict[str, Any] = json.loads(json.dumps(item.value))
        self._write_lock = threading.Lock()
        self._lost = False

    def acquire(self) -> bool:
        lease = self.record["lease"]
        if lease and lease["owner"] != self.engine.owner and lease["until"] > time.time():
            return False  # a live driver has it
        try:
            self.save("driver", owner=self.engine.owner)
        except LeaseLost:
            return False
        return True

    def _write(self) -> None:
        self.record["lease"] = {
            "owner": self.engine.owner,
            "until": time.time() + self.engine.lease_seconds,
        }
        try:
            item = self.engine.store.put(self.key, self.record, if_match=self.etag)
        except Conflict:
            self._lost = True
            raise LeaseLost() from None
        self.etag = item.etag

    def save(self, event: str, **details: Any) -> None:
        """Write the record with the last etag, renewing the lease."""
        with self._write_lock:
            if self._lost:
                raise LeaseLost()
            entry = {"event": event, "at": time.time(), **details}
            self.record["events"] = [*self.record["events"], entry][-MAX_EVENTS:]
            self._write()

    @contextlib.contextmanager
    def heartbeat(self) -> Iterator[None]:
        """Renew the lease while an attempt (or a backoff) runs, so that a long
        activity keeps its run and a killed driver's run is free within a lease."""
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.engine.lease_seconds / 3):
                with self._write_lock:
                    if self._lost:
                        return
                    with contextlib.suppress(LeaseLost):
                        self._write()

        beating = threading.Thread(target=renew, daemon=True, name="statekit-lease")
        beating.start()
        try:
            yield
        finally:
            stop.set()
            beating.join()
        if self._lost:
            raise LeaseLost()

    def attempt(
        self,
        activity: str,
        payload: Any,
        *,
        retry: Retry,
        timeout: int | None,
        step: str,
        kind: str,
    ) -> tuple[bool, Any]:
        """Attempts left of one call; the count is saved before each so a crash uses one up."""
        function = self.engine.implementation(self.definition, activity)
        failure: BaseException | None = None
        while self.record["attempt"] < retry.max_attempts:
            self.record["attempt"] += 1
            number = self.record["attempt"]
            if number > 1 and failure is not None:
                with self.heartbeat():
                    self.engine.sleep(retry.delay_before(number))
            self.save(f"{kind}_attempt", step=step, activity=activity, attempt=number)
            try:
                with self.heartbeat():
                    result = call_with_timeout(function, payload, timeout)
            except LeaseLost:
                raise
            except Exception as exc:
                failure = exc
                self.record["events"].append(
                    {"event": f"{kind}_attempt_failed", "step": step, **error_of(exc, step)}
                )
            else:
                return True, result
        return False, error_of(failure or RuntimeError("no attempts left after a restart"), step)

    def forward(self) -> None:
        record = self.record
        step = self.definition.step(record["at"])
        if isinstance(step, Fail):
            self.fail({"step": step.name, "error": step.error, "message": step.message})
            return
        assert isinstance(step, Step)
        try:
            payload = map_input(record["state"], step.input)
        except KeyError as exc:
            self.fail({"step": step.name, "error": "InputPathMissing", "message": str(exc.args[0])})
            return
        ok, value = self.attempt(
            step.activity,
            payload,
            retry=step.retry,
            timeout=step.timeout,
            step=step.name,
            kind="step",
        )
        if not ok:
            self.fail(value)
            return
        if step.output:
            record["state"] = {**record["state"], step.output: value}
        if step.compensate is not None:
            record["completed"] = [*record["completed"], step.name]
        try:
            following = choose_next(step, record["state"])
        except KeyError as exc:
            self.fail(
                {"step": step.name, "error": "ChoicePathMissing", "message": str(exc.args[0])}
            )
            return
        record["attempt"] = 0
        if following is None:
            record["status"] = SUCCEEDED
            record["output"] = record["state"]
        record["at"] = following
        self.save("step_succeeded", step=step.name, next=following)

    def fail(self, error: dict[str, Any]) -> None:
        self.record.update(phase="compensating", error=error, attempt=0)
        self.save("step_failed", **error)

    def compensate(self) -> None:
        record = self.record
        pending = [name for name in reversed(record["completed"]) if name not in record["undone"]]
        if not pending:
            record["status"] = COMPENSATED if record["undone"] else FAILED
            self.save("ended", status=record["status"])
            return
        name = pending[0]
        step = self.definition.step(name)
        assert isinstance(step, Step) and step.compensate is not None
        comp = step.compensate
        try:
            payload = map_input(record["state"], comp.input)
        except KeyError as exc:
            ok, value = (
                False,
                {"step": name, "error": "InputPathMissing", "message": str(exc.args[0])},
            )
        else:
            ok, value = self.attempt(
                comp.activity,
                payload,
                retry=comp.retry,
                timeout=comp.timeout,
                step=name,
                kind="undo",
            )
        record["attempt"] = 0
        if ok:
            record["undone"] = [*record["undone"], name]
            record["compensations"] = [*record["compensations"], comp.activity]
            self.save("undo_succeeded", step=name, activity=comp.activity)
            return
        # An undo that keeps failing needs a person: stop, and say which one.
        record["status"] = FAILED
        record["compensation_error"] = value
        record["error"] = {**record["error"], "compensation": value}
        self.save("undo_failed", **value)
