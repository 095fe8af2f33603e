"""The driver of one local workflow run: attempts, retries, compensations, lease.

Every change to the run's record is written with the last etag it read, so a
second driver (another process resuming the run) makes this one stop at its
next write instead of both going on.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from statekit.errors import Conflict
from statekit.store import Item
from statekit.workflows.definition import (
    COMPENSATED,
    FAILED,
    SUCCEEDED,
    Fail,
    Retry,
    Step,
    Workflow,
    choose_next,
    map_input,
)

if TYPE_CHECKING:
    from statekit.workflows.engines.local.client import LocalWorkflows

MAX_EVENTS = 200  # keeps a run's record far below the store's value limit
Activity = Callable[[Any], Any]


class LeaseLost(Exception):
    """Another driver wrote the run; this one stops without side effects on the record."""


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


class RunDriver:
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
