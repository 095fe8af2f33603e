"""The local executor: progress in the store, resume after SIGKILL, idempotent by id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from handlers.activities import ACTIVITIES, ActivityFailed
from handlers.saga import ORDER_SAGA, order
from statekit.errors import InvalidValue
from statekit.store import open_store
from statekit.workflows import (
    WorkflowFailed,
    WorkflowIdInUse,
    WorkflowIdInvalid,
    WorkflowNotFound,
    WorkflowTimeout,
    open_workflows,
)
from statekit.workflows.engines.local.client import LocalWorkflows, run_key
from tests.conformance.workflows.engine_local import local_url
from tests.conformance.workflows.saga_script import script

ROOT = Path(__file__).resolve().parents[3]
LEASE_SECONDS = 2.0


def wait_for(path: Path, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"the child exited early: {process.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError("the child never reached charge_payment")
        time.sleep(0.05)


def attempts(client: LocalWorkflows, run_id: str, activity: str) -> int:
    return sum(
        1
        for event in client.history(run_id)
        if event["event"] == "step_attempt" and event["activity"] == activity
    )


def test_resumes_where_it_stopped_after_sigkill(tmp_path: Path) -> None:
    url = local_url(tmp_path / "workflows.db", lease_seconds=LEASE_SECONDS)
    run_id = "killed-1"
    marker = tmp_path / "charging"
    began = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.conformance.workflows.local_child", url, run_id, str(marker)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        wait_for(marker, child)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    killed_at = time.monotonic()

    client = open_workflows(url)
    assert isinstance(client, LocalWorkflows)
    client.register(ORDER_SAGA)
    record = client.store.get(run_key(run_id))
    assert record is not None
    assert record.value["status"] == "running"
    assert record.value["at"] == "charge_payment"
    assert record.value["state"]["reservation"] == {"reservation_id": f"res-{run_id}", "items": 1}

    # The dead driver's lease still holds: nobody else drives the run yet.
    assert client.resume(run_id).status == "running"
    with pytest.raises(WorkflowTimeout):
        client.result(run_id, wait=0.1)

    time.sleep(max(0.0, LEASE_SECONDS - (time.monotonic() - killed_at)) + 0.2)
    resumed = client.start(ORDER_SAGA, order(run_id), run_id)
    print(f"kill-and-resume run: {time.monotonic() - began:.2f} s")

    _, expected_output = script(order(run_id))
    assert resumed.status == "succeeded"
    assert client.result(run_id) == expected_output
    assert attempts(client, run_id, "reserve_stock") == 1  # done before the kill: not redone
    assert attempts(client, run_id, "charge_payment") == 2  # the interrupted attempt counts
    assert attempts(client, run_id, "create_shipment") == 1


@pytest.fixture
def client(tmp_path: Path) -> LocalWorkflows:
    engine = LocalWorkflows(open_store(f"sqlite:///{tmp_path / 'wf.db'}"), sleep=lambda _s: None)
    engine.register(ORDER_SAGA)
    return engine


def test_start_is_idempotent_by_id(client: LocalWorkflows) -> None:
    calls: list[str] = []

    def counting(name: str) -> Any:
        def run(payload: Any) -> Any:
            calls.append(name)
            return ACTIVITIES[name](payload)

        return run

    client.activities = {name: counting(name) for name in ACTIVITIES}
    first = client.start(ORDER_SAGA, order("same"), "same")
    again = client.start(ORDER_SAGA, order("same"), "same")
    assert first == again
    assert calls == ["reserve_stock", "charge_payment", "create_shipment"]
    with pytest.raises(WorkflowIdInUse, match="different input"):
        client.start(ORDER_SAGA, order("other"), "same")


def test_statuses_and_results(client: LocalWorkflows) -> None:
    run = client.start(ORDER_SAGA, order("declined", card="declined"), "declined")
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


def test_first_step_failing_has_nothing_to_undo(client: LocalWorkflows) -> None:
    def out_of_stock(_payload: Any) -> Any:
        raise ActivityFailed("OutOfStock", "book-1 is sold out")

    client.activities = {**ACTIVITIES, "reserve_stock": out_of_stock}
    run = client.start(ORDER_SAGA, order("nostock"), "nostock")
    assert run.status == "failed"
    assert run.error == {
        "step": "reserve_stock",
        "error": "OutOfStock",
        "message": "book-1 is sold out",
    }
    assert run.compensated == ()
    assert [e["attempt"] for e in client.history("nostock") if e["event"] == "step_attempt"] == [
        1,
        2,
        3,
    ]


def test_compensation_that_keeps_failing_stops_the_run(client: LocalWorkflows) -> None:
    def broken_refund(_payload: Any) -> Any:
        raise RuntimeError("payment provider down")

    client.activities = {**ACTIVITIES, "refund_payment": broken_refund}
    run = client.start(ORDER_SAGA, order("stuck", fail_at="create_shipment"), "stuck")
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["step"] == "create_shipment"
    assert run.error["compensation"]["step"] == "charge_payment"
    assert run.error["compensation"]["message"] == "payment provider down"
    assert run.compensated == ()  # release_stock did not run past the broken refund


def test_timeout_fails_the_attempt(client: LocalWorkflows) -> None:
    from statekit.workflows import Retry, Step, Workflow

    slow = Workflow(
        "slow",
        [Step("wait", activity="sleepy", timeout=1, retry=Retry(max_attempts=1))],
        activities={"sleepy": lambda _p: time.sleep(5)},
    )
    began = time.monotonic()
    run = client.start(slow, {}, "slow-1")
    assert time.monotonic() - began < 4
    assert run.status == "failed"
    assert run.error is not None
    assert run.error["error"] == "TimeoutError"


def test_bad_ids_and_inputs(client: LocalWorkflows) -> None:
    with pytest.raises(WorkflowIdInvalid):
        client.start(ORDER_SAGA, order("x"), "has/slash")
    with pytest.raises(InvalidValue, match="JSON object"):
        client.start(ORDER_SAGA, [1, 2], "list-input")
    with pytest.raises(WorkflowNotFound):
        client.status("never-started")


def test_a_live_driver_keeps_its_run_past_the_lease(tmp_path: Path) -> None:
    import threading

    from statekit.workflows import Step, Workflow

    calls: list[int] = []

    def long_activity(_payload: Any) -> str:
        calls.append(1)
        time.sleep(2.0)
        return "done"

    slow = Workflow("slow_one", [Step("work", activity="long")], activities={"long": long_activity})
    store = open_store(f"sqlite:///{tmp_path / 'lease.db'}")
    driver = LocalWorkflows(store, lease_seconds=0.6)
    other = LocalWorkflows(store, lease_seconds=0.6)
    other.register(slow)
    first = threading.Thread(target=driver.start, args=(slow, {}, "long-1"))
    first.start()
    time.sleep(1.2)  # two leases: only the heartbeat keeps the run with its driver
    assert other.resume("long-1").status == "running"
    first.join()
    assert other.result("long-1") == {}  # the step keeps no output: the state is the input
    assert calls == [1]
