"""The local executor: background driver, restart after SIGKILL, durable timers and
events in SQLite, a movable clock, idempotent start, cancel, list and history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from handlers.activities import ACTIVITIES, ActivityFailed
from handlers.saga import ORDER_SAGA, order
from statekit.errors import InvalidValue
from statekit.store import open_store
from statekit.workflows import (
    Retry,
    Step,
    Wait,
    WaitForEvent,
    When,
    Workflow,
    WorkflowFailed,
    WorkflowIdInUse,
    WorkflowIdInvalid,
    WorkflowNotFound,
    open_workflows,
)
from statekit.workflows.engines.local.client import LocalWorkflows, ManualClock, run_key
from tests.conformance.workflows.engine_local import local_url
from tests.conformance.workflows.local_child import THREE_STEPS

ROOT = Path(__file__).resolve().parents[3]


def wait_for(path: Path, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the child exited early: {process.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the child never wrote {path.name}")
        time.sleep(0.05)


def test_a_run_killed_mid_step_resumes_at_once_and_reruns_the_step(tmp_path: Path) -> None:
    # The default 60 s lease: resuming must not wait for it to lapse.
    url = local_url(tmp_path / "workflows.db")
    run_id = "killed-1"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.conformance.workflows.local_child", url, run_id, str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        wait_for(tmp_path / "second", child)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()

    client = open_workflows(url)
    assert isinstance(client, LocalWorkflows)
    client.register(THREE_STEPS)  # a new process knows the workflows its code defines
    record = client.store.get(run_key(run_id))
    assert record is not None and record.value["at"] == "second"
    began = time.monotonic()
    client.run_in_background()
    output = client.result(run_id, wait=20)
    resumed_in = time.monotonic() - began
    client.close()
    print(f"resumed and finished {resumed_in:.2f} s after the restart")
    assert resumed_in < 10  # not after the 60 s lease
    assert output == {
        "dir": str(tmp_path),
        "one": "first-done",
        "two": "second-done",
        "three": "third-done",
    }
    calls = (tmp_path / "calls").read_text().split()
    assert calls == ["first", "second", "second", "third"]  # each step once, the killed one again
    second = [(e.attempt, e.outcome) for e in client.history(run_id) if e.step == "second"]
    assert second == [(1, "interrupted"), (1, "succeeded")]  # not a failed attempt


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def client(tmp_path: Path, clock: ManualClock) -> LocalWorkflows:
    store = open_store(f"sqlite:///{tmp_path / 'wf.db'}")
    return LocalWorkflows(store, clock=clock, background=False)


def finish(client: LocalWorkflows, run_id: str) -> Any:
    client.run_pending()
    return client.status(run_id)


def test_start_returns_at_once_and_the_background_driver_runs_it(tmp_path: Path) -> None:
    release = threading.Event()

    def slow(_payload: Any) -> str:
        release.wait(10)
        return "done"

    flow = Workflow(
        "slow_bg", [Step("work", activity="slow", output="out")], activities={"slow": slow}
    )
    client = LocalWorkflows(open_store(f"sqlite:///{tmp_path / 'bg.db'}"))
    began = time.monotonic()
    run = client.start(flow, {}, "bg-1")
    assert time.monotonic() - began < 1
    assert run.status == "running" and run.step == "work"
    release.set()
    assert client.result("bg-1", wait=10) == {"out": "done"}
    client.close()


def test_start_conflicts(client: LocalWorkflows) -> None:
    calls: list[str] = []

    def counting(name: str) -> Any:
        def run(payload: Any) -> Any:
            calls.append(name)
            return ACTIVITIES[name](payload)

        return run

    client.activities = {name: counting(name) for name in ACTIVITIES}
    client.start(ORDER_SAGA, order("same"), "same")
    first = finish(client, "same")
    again = client.start(ORDER_SAGA, order("same"), "same")  # use_existing: the same run
    assert first == again
    assert calls == ["reserve_stock", "charge_payment", "create_shipment"]
    with pytest.raises(WorkflowIdInUse, match="different input"):
        client.start(ORDER_SAGA, order("other"), "same")
    with pytest.raises(WorkflowIdInUse, match="exists"):
        client.start(ORDER_SAGA, order("same"), "same", on_conflict="fail")
    with pytest.raises(ValueError, match="on_conflict"):
        client.start(ORDER_SAGA, order("same"), "same", on_conflict="replace")


def test_statuses_and_results(client: LocalWorkflows) -> None:
    client.start(ORDER_SAGA, order("declined", card="declined"), "declined")
    run = finish(client, "declined")
    assert run.status == "compensated"
    assert run.error == {
        "step": "payment_declined",
        "error": "PaymentDeclined",
        "message": "the card was declined",
    }
    assert run.compensated == ("refund_payment", "release_stock")
    with pytest.raises(WorkflowFailed, match="ended compensated") as failed:
        client.result("declined")
    assert failed.value.status == "compensated"


def test_first_step_failing_has_nothing_to_undo(client: LocalWorkflows, clock: ManualClock) -> None:
    def out_of_stock(_payload: Any) -> Any:
        raise ActivityFailed("OutOfStock", "book-1 is sold out")

    client.activities = {**ACTIVITIES, "reserve_stock": out_of_stock}
    began = clock.now()
    client.start(ORDER_SAGA, order("nostock"), "nostock")
    run = finish(client, "nostock")
    assert run.status == "failed"
    assert run.error == {
        "step": "reserve_stock",
        "error": "OutOfStock",
        "message": "book-1 is sold out",
    }
    assert run.compensated == ()
    entries = [e for e in client.history("nostock") if e.kind == "step"]
    assert [(e.attempt, e.outcome, e.error) for e in entries] == [
        (1, "failed", "OutOfStock"),
        (2, "failed", "OutOfStock"),
        (3, "failed", "OutOfStock"),
    ]
    assert entries[1].started == began + 1 and entries[2].started == began + 3  # 1 s, then 2 s
    assert clock.now() - began == 3  # the backoff moved the manual clock, not the real one


def test_compensation_that_keeps_failing_stops_the_run(client: LocalWorkflows) -> None:
    def broken_refund(_payload: Any) -> Any:
        raise RuntimeError("payment provider down")

    client.activities = {**ACTIVITIES, "refund_payment": broken_refund}
    client.start(ORDER_SAGA, order("stuck", fail_at="create_shipment"), "stuck")
    run = finish(client, "stuck")
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["step"] == "create_shipment"
    assert run.error["compensation"]["step"] == "charge_payment"
    assert run.error["compensation"]["message"] == "payment provider down"
    assert run.compensated == ()  # release_stock did not run past the broken refund


def test_timeout_fails_the_attempt(client: LocalWorkflows) -> None:
    slow = Workflow(
        "slow",
        [Step("work", activity="sleepy", timeout=1, retry=Retry(max_attempts=1))],
        activities={"sleepy": lambda _p: time.sleep(5)},
    )
    began = time.monotonic()
    client.start(slow, {}, "slow-1")
    run = finish(client, "slow-1")
    assert time.monotonic() - began < 4
    assert run.status == "failed"
    assert run.error is not None and run.error["error"] == "TimeoutError"


def test_bad_ids_and_inputs(client: LocalWorkflows) -> None:
    with pytest.raises(WorkflowIdInvalid):
        client.start(ORDER_SAGA, order("x"), "has/slash")
    with pytest.raises(InvalidValue, match="JSON object"):
        client.start(ORDER_SAGA, [1, 2], "list-input")
    with pytest.raises(WorkflowNotFound):
        client.status("never-started")
    with pytest.raises(WorkflowNotFound):
        client.send_event("never-started", "approval", {})


def test_a_live_driver_keeps_its_run_past_the_lease(tmp_path: Path) -> None:
    calls: list[int] = []

    def long_activity(_payload: Any) -> str:
        calls.append(1)
        time.sleep(2.0)
        return "done"

    slow = Workflow("slow_one", [Step("work", activity="long")], activities={"long": long_activity})
    store = open_store(f"sqlite:///{tmp_path / 'lease.db'}")
    driver = LocalWorkflows(store, lease_seconds=0.6, background=False)
    other = LocalWorkflows(store, lease_seconds=0.6, background=False)
    driver.start(slow, {}, "long-1")
    first = threading.Thread(target=driver.run_pending)
    first.start()
    time.sleep(1.2)  # two leases: only the heartbeat keeps the run with its driver
    assert other.resume("long-1").status == "running"
    first.join()
    assert other.result("long-1") == {}
    assert calls == [1]


APPROVAL = Workflow(
    "approval_local",
    [
        Wait("cool_off", seconds=3600, next="ask"),
        WaitForEvent(
            "ask",
            event="approval",
            timeout=86400,
            output="decision",
            choices=[When("$.decision.approved", equals=True, next="confirm")],
            next="release",
            on_timeout="release",
        ),
        Step("confirm", activity="mark", input={"what": "confirmed"}, output="outcome"),
        Step("release", activity="mark", input={"what": "released"}, output="outcome"),
    ],
    activities={"mark": lambda payload: payload["what"]},
)


def test_a_day_long_timeout_takes_no_real_time(client: LocalWorkflows, clock: ManualClock) -> None:
    began = time.monotonic()
    client.start(APPROVAL, {"booking": 1}, "day-1")
    assert finish(client, "day-1").step == "cool_off"
    clock.advance(3600)
    assert finish(client, "day-1").step == "ask"
    clock.advance(86399)
    assert finish(client, "day-1").status == "running"
    clock.advance(1)
    run = finish(client, "day-1")
    assert (run.status, run.output) == ("succeeded", {"booking": 1, "outcome": "released"})
    assert time.monotonic() - began < 5
    outcomes = [(e.step, e.kind, e.outcome) for e in client.history("day-1")]
    assert outcomes == [
        ("cool_off", "wait", "succeeded"),
        ("ask", "event", "timed_out"),
        ("release", "step", "succeeded"),
    ]


def test_timers_and_events_survive_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path / 'restart.db'}"
    before = LocalWorkflows(open_store(url), clock=clock, background=False)
    before.start(APPROVAL, {"booking": 2}, "restart-1")
    before.run_pending()
    before.store.close()
    clock.advance(3600)
    after = LocalWorkflows(open_store(url), clock=clock, background=False)  # a new process
    assert after.run_pending() == 1
    assert after.status("restart-1").step == "ask"
    after.send_event("restart-1", "approval", {"approved": True})
    after.store.close()
    again = LocalWorkflows(open_store(url), clock=clock, background=False)
    run = finish(again, "restart-1")
    assert run.output == {"booking": 2, "decision": {"approved": True}, "outcome": "confirmed"}


def test_an_event_sent_before_the_wait_is_kept(client: LocalWorkflows, clock: ManualClock) -> None:
    client.start(APPROVAL, {"booking": 3}, "early-1")
    client.send_event("early-1", "approval", {"approved": False})
    assert finish(client, "early-1").step == "cool_off"
    clock.advance(3600)
    run = finish(client, "early-1")
    assert run.output == {"booking": 3, "decision": {"approved": False}, "outcome": "released"}


def test_cancel_list_and_status_so_far(client: LocalWorkflows) -> None:
    for index in range(5):
        client.start(APPROVAL, {"booking": index}, f"list-{index}")
    client.run_pending()
    waiting = client.status("list-0")
    assert (waiting.status, waiting.step, waiting.state) == ("running", "cool_off", {"booking": 0})
    cancelled = client.cancel("list-1")
    assert cancelled.status == "cancelled"
    assert client.cancel("list-1").status == "cancelled"  # again: no change
    client.start(ORDER_SAGA, order("list-saga"), "list-saga")
    client.run_pending()
    assert {r.id for r in client.list(status="cancelled").runs} == {"list-1"}
    assert {r.id for r in client.list(workflow="place_order").runs} == {"list-saga"}
    first = client.list(workflow="approval_local", limit=2)
    assert [r.id for r in first.runs] == ["list-0", "list-1"]
    rest = client.list(workflow="approval_local", limit=10, cursor=first.cursor)
    assert [r.id for r in rest.runs] == ["list-2", "list-3", "list-4"]
    assert client.list(status="running", limit=100).runs[0].step == "cool_off"
    with pytest.raises(WorkflowNotFound):
        client.cancel("nope")
