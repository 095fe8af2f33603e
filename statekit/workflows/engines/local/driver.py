"""The driver of one local workflow run: steps, waits, events, bodies, compensations.

Every change to the run's record is written with the last etag it read, so a
second driver (another process, or ``cancel``) makes this one stop at its next
write instead of both going on. ``forward`` returns a ``Block`` when the run
must wait (a timer, an event, its Parallel branches or Map items); the client
then writes when it is due in ``wfactive/<id>`` and drives other runs.

An attempt is saved as in flight before the activity is called; a driver that
finds an attempt in flight of a dead process marks it ``interrupted`` and runs
it again with the same number, so a crash is not a failed attempt.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statekit.errors import Conflict
from statekit.store import Item
from statekit.workflows.definition import (
    BRANCH_FAILED_ERROR,
    CANCELLED,
    COMPENSATED,
    EVENT_TIMEOUT_ERROR,
    FAILED,
    FAILED_ITEM_KEY,
    FINAL_STATUSES,
    SUCCEEDED,
    Fail,
    Map,
    Parallel,
    Retry,
    Step,
    Wait,
    WaitForEvent,
    Workflow,
    choose_next,
    map_input,
    read_path,
    wait_until,
)
from statekit.workflows.engines.local.records import event_key, owner_alive, run_key

if TYPE_CHECKING:
    from statekit.workflows.engines.local.client import LocalWorkflows

MAX_HISTORY = 500  # keeps a run's record far below the store's value limit
Activity = Callable[[Any], Any]


class LeaseLost(Exception):
    """Another driver (or ``cancel``) wrote the run; this one stops."""


@dataclass(frozen=True)
class Block:
    """The run waits: until ``due`` (epoch seconds), or until woken when None."""

    due: float | None


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


def new_record(
    definition: Workflow,
    payload: dict[str, Any],
    now: float,
    *,
    parent: str | None = None,
    root: str | None = None,
) -> dict[str, Any]:
    return {
        "workflow": definition.root.name,
        "scope": definition.scope_path,
        "parent": parent,
        "root": root,
        "input": payload,
        "state": payload,
        "status": "running",
        "phase": "forward",
        "at": definition.start,
        "attempt": 0,
        "in_flight": False,
        "waiting": None,
        "children": None,
        "completed": [],
        "undone": [],
        "compensations": [],
        "error": None,
        "compensation_error": None,
        "output": None,
        "lease": None,
        "created": now,
        "ended": None,
        "steps": [],
    }


class RunDriver:
    """One driver's hold on one run: every change is written with the last etag."""

    def __init__(
        self, engine: LocalWorkflows, definition: Workflow, item: Item, active: Item | None
    ) -> None:
        self.engine = engine
        self.definition = definition
        self.key = item.key
        self.run_id = item.key.split("/", 1)[1]
        self.etag = item.etag
        self.active_etag = active.etag if active else None
        self.record: dict[str, Any] = json.loads(json.dumps(item.value))
        self._write_lock = threading.Lock()
        self._lost = False
        self.advanced = False

    @property
    def clock_now(self) -> float:
        return self.engine.clock.now()

    # -- the lease and the writes ---------------------------------------------------------
    def acquire(self) -> bool:
        lease = self.record["lease"]
        if (
            lease
            and lease["owner"] != self.engine.owner
            and lease["until"] > time.time()
            and owner_alive(lease["owner"])
        ):
            return False  # a live driver has it
        if self.record["in_flight"]:  # its driver died inside an attempt: not a failure
            self.record["attempt"] = max(0, self.record["attempt"] - 1)
            self.record["in_flight"] = False
            self._end_entry("interrupted")
        try:
            self._write()
        except LeaseLost:
            return False
        return True

    def _write(self, lease: bool = True) -> None:
        self.record["lease"] = (
            {"owner": self.engine.owner, "until": time.time() + self.engine.lease_seconds}
            if lease
            else None
        )
        try:
            item = self.engine.store.put(self.key, self.record, if_match=self.etag)
        except Conflict:
            self._lost = True
            raise LeaseLost() from None
        self.etag = item.etag

    def save(self, *, lease: bool = True) -> None:
        """Write the record with the last etag (renewing the lease)."""
        with self._write_lock:
            if self._lost:
                raise LeaseLost()
            self._write(lease)
        self.advanced = True
        if self.record["status"] in FINAL_STATUSES:
            self.engine.ended(self.run_id, self.record)

    def release(self, block: Block) -> None:
        """Give the run back until ``block.due``: no lease held while it waits."""
        with self._write_lock:
            self._write(lease=False)
        self.engine.set_due(self.run_id, block.due, if_match=self.active_etag)

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

    # -- history -------------------------------------------------------------------------
    def _begin_entry(self, step: str, kind: str, attempt: int, activity: str | None) -> None:
        entry = {
            "step": step,
            "kind": kind,
            "attempt": attempt,
            "started": self.clock_now,
            "ended": None,
            "outcome": "running",
            "activity": activity,
        }
        self.record["steps"] = [*self.record["steps"], entry][-MAX_HISTORY:]

    def _end_entry(self, outcome: str, **details: Any) -> None:
        if self.record["steps"] and self.record["steps"][-1]["ended"] is None:
            last = {**self.record["steps"][-1], "ended": self.clock_now, "outcome": outcome}
            self.record["steps"] = [*self.record["steps"][:-1], {**last, **details}]

    # -- steps ----------------------------------------------------------------------------
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
        """Attempts left of one call; each is saved in flight before it starts."""
        function = self.engine.implementation(self.definition.root, activity)
        failure: BaseException | None = None
        while self.record["attempt"] < retry.max_attempts:
            self.record["attempt"] += 1
            number = self.record["attempt"]
            if number > 1 and failure is not None:
                with self.heartbeat():
                    self.engine.clock.sleep(retry.delay_before(number))
            self.record["in_flight"] = True
            self._begin_entry(step, kind, number, activity)
            self.save()
            try:
                with self.heartbeat():
                    result = call_with_timeout(function, payload, timeout)
            except LeaseLost:
                raise
            except Exception as exc:
                failure = exc
                self.record["in_flight"] = False
                error = error_of(exc, step)
                self._end_entry(
                    "timed_out" if isinstance(exc, TimeoutError) else "failed",
                    error=error["error"],
                    message=error["message"],
                )
                self.save()
            else:
                self.record["in_flight"] = False
                self._end_entry("succeeded")
                return True, result
        return False, error_of(failure or RuntimeError("no attempts left"), step)

    def forward(self) -> Block | None:
        step = self.definition.step(self.record["at"])
        try:
            if isinstance(step, Step):
                self._step(step)
            elif isinstance(step, Fail):
                self.fail({"step": step.name, "error": step.error, "message": step.message})
            elif isinstance(step, Wait):
                return self._wait(step)
            elif isinstance(step, WaitForEvent):
                return self._wait_for_event(step)
            else:
                return self._bodies(step)
        except _PathMissing as missing:
            self.fail({"step": step.name, "error": missing.error, "message": missing.message})
        return None

    def go_to(self, following: str | None) -> None:
        record = self.record
        record["attempt"] = 0
        record["at"] = following
        if following is None:
            record["status"] = SUCCEEDED
            record["output"] = record["state"]
            record["ended"] = self.clock_now
        self.save()

    def _step(self, step: Step) -> None:
        record = self.record
        payload = _read(lambda: map_input(record["state"], step.input), "InputPathMissing")
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
        self.go_to(_read(lambda: choose_next(step, record["state"]), "ChoicePathMissing"))

    def _wait(self, step: Wait) -> Block | None:
        record = self.record
        if record["waiting"] is None:
            now = self.clock_now
            until = _read(lambda: wait_until(record["state"], step, now), "WaitTimeInvalid")
            record["waiting"] = {"kind": "timer", "until": until}
            self._begin_entry(step.name, "wait", 1, None)
            self.save()
        until = record["waiting"]["until"]
        if self.clock_now < until:
            return Block(until)
        record["waiting"] = None
        self._end_entry("succeeded")
        self.go_to(step.next)
        return None

    def _wait_for_event(self, step: WaitForEvent) -> Block | None:
        record = self.record
        if record["waiting"] is None:
            until = self.clock_now + step.timeout if step.timeout else None
            record["waiting"] = {"kind": "event", "event": step.event, "until": until}
            self._begin_entry(step.name, "event", 1, None)
            self.save()
        delivered = self.engine.store.get(event_key(record["root"] or self.run_id, step.event))
        until = record["waiting"]["until"]
        if delivered is not None:
            record["waiting"] = None
            if step.output:
                record["state"] = {**record["state"], step.output: delivered.value["payload"]}
            self._end_entry("received")
            self.go_to(_read(lambda: choose_next(step, record["state"]), "ChoicePathMissing"))
            # Taken only once the run has moved on: a crash before this keeps the event.
            with contextlib.suppress(Conflict):
                self.engine.store.delete(delivered.key, if_match=delivered.etag)
            return None
        if until is not None and self.clock_now >= until:
            record["waiting"] = None
            self._end_entry("timed_out")
            if step.on_timeout:
                self.go_to(step.on_timeout)
            else:
                message = f"no {step.event!r} event within {step.timeout} s"
                self.fail({"step": step.name, "error": EVENT_TIMEOUT_ERROR, "message": message})
            return None
        return Block(until)

    # -- Parallel branches and Map items: child runs ---------------------------------------
    def _bodies(self, step: Parallel | Map) -> Block | None:
        record = self.record
        prefix = f"{self.definition.scope_path}/" if self.definition.scope_path else ""
        if record["children"] is None:
            if isinstance(step, Parallel):
                inputs = [record["state"]] * len(step.branches)
                scopes = [f"{prefix}{step.name}.{index}" for index in range(len(step.branches))]
                limit = len(inputs)
            else:
                items = _read(lambda: read_path(record["state"], step.items), "ItemsPathMissing")
                if not isinstance(items, list):
                    raise _PathMissing("ItemsNotAList", f"{step.items} is not a list")
                inputs = [{"item": item} for item in items]
                scopes = [prefix + step.name] * len(items)
                limit = step.max_concurrency or len(items)
            record["children"] = {"inputs": inputs, "scopes": scopes, "limit": limit, "launched": 0}
            self._begin_entry(
                step.name, "parallel" if isinstance(step, Parallel) else "map", 1, None
            )
            self.save()
        children = record["children"]
        ids = [f"{self.run_id}:{step.name}.{index}" for index in range(children["launched"])]
        found = self.engine.store.get_many([run_key(child) for child in ids])
        runs = [found[run_key(child)] for child in ids]
        ended = [run for run in runs if run is not None and run.value["status"] in FINAL_STATUSES]
        failed = [run for run in ended if run.value["status"] != SUCCEEDED]
        # A failed branch stops its Parallel at once (as on Step Functions); a Map runs
        # every item and counts the failures at the end (as every engine's Map does).
        total = len(children["inputs"])
        tolerated = step.tolerated_failures if isinstance(step, Map) else 0
        all_ended = children["launched"] == total and len(ended) == len(ids)
        if len(failed) > tolerated and (isinstance(step, Parallel) or all_ended):
            for child in ids:
                self.engine.cancel_tree(child)
            first = failed[0].value
            inner = first.get("error") or {}
            message = (
                f"{first['scope']}: step {inner.get('step')!r} failed with "
                f"{inner.get('error')}: {inner.get('message', '')}"
            )
            if isinstance(step, Map):
                message = f"more than {tolerated} items failed"
            self._end_entry("failed")
            record["children"] = None
            self.fail({"step": step.name, "error": BRANCH_FAILED_ERROR, "message": message})
            return None
        running = len(ids) - len(ended)
        root = record["root"] or self.run_id
        while children["launched"] < total and running < children["limit"]:
            index = children["launched"]
            self.engine.create_child(
                f"{self.run_id}:{step.name}.{index}",
                self.definition.root.scope(children["scopes"][index]),
                children["inputs"][index],
                parent=self.run_id,
                root=root,
            )
            children["launched"] += 1
            running += 1
        if children["launched"] < total or running:
            self.save()
            return Block(None)  # a child that ends wakes this run
        results = []
        for run in runs:
            assert run is not None
            if run.value["status"] == SUCCEEDED:
                results.append(run.value["output"])
            else:
                results.append({**run.value["input"], FAILED_ITEM_KEY: True})
        if step.output:
            record["state"] = {**record["state"], step.output: results}
        record["children"] = None
        self._end_entry("succeeded")
        self.go_to(step.next)
        return None

    # -- failing and undoing --------------------------------------------------------------
    def fail(self, error: dict[str, Any]) -> None:
        self.record.update(phase="compensating", error=error, attempt=0)
        self.save()

    def compensate(self) -> None:
        record = self.record
        pending = [name for name in reversed(record["completed"]) if name not in record["undone"]]
        if not pending:
            record["status"] = COMPENSATED if record["undone"] else FAILED
            record["ended"] = self.clock_now
            self.save()
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
            self.save()
            return
        # An undo that keeps failing needs a person: stop, and say which one.
        record["status"] = FAILED
        record["ended"] = self.clock_now
        record["compensation_error"] = value
        record["error"] = {**record["error"], "compensation": value}
        self.save()


class _PathMissing(Exception):
    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def _read(read: Callable[[], Any], error: str) -> Any:
    """A path read from the state; a missing field fails the step with ``error``."""
    try:
        return read()
    except KeyError as exc:
        raise _PathMissing(error, str(exc.args[0])) from None


__all__ = ["CANCELLED", "Block", "LeaseLost", "RunDriver", "new_record"]
