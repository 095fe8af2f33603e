"""One suite, four engines: waits, approvals, fan-out, cancel and start conflicts end
the same way (status, output, failed step and error, compensations) everywhere.

Each engine runs the definitions of long_running.py through its own client
(local executor; Step Functions on moto; Durable Functions through the
``durable://`` client against durable_host.py; Cloud Workflows in
workflows-emulator). Strict xfails name the stand-in's gap:
workflows-emulator has no ``events`` library and no Executions API.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from statekit.workflows import Step, Workflow, WorkflowIdInUse
from tests.conformance.workflows.long_running import ACTIVITIES, LINGER, Case, Outcome, cases

ENGINES = ("local", "stepfunctions", "durable", "cloud_workflows")
NO_EVENTS = "workflows-emulator has no events library (create_callback_endpoint/await_callback)"
NO_EXECUTIONS_API = "workflows-emulator has no Executions API: nothing to cancel or conflict on"
EMULATOR_PARALLEL_FOR = (
    "workflows-emulator: inside a parallel for, the loop's shared variables are gone after a "
    "subworkflow call (AttributeError), and the execution then hangs"
)
MOTO_STOP_WHILE_CALLBACK = (
    "moto: StopExecution does not abort an execution waiting in a .waitForTaskToken task "
    "(it fails later with States.Timeout); AWS aborts it"
)
TAG = f"lr-{uuid.uuid4().hex[:6]}"
CASES = cases(TAG)


def drive(engine: Any, case: Case, run_id: str, seconds: float = 60) -> Any:
    """Start the case's run and steer it as a user would, until it ends."""
    engine.start(case.workflow, case.input, run_id)
    sent = False
    deadline = time.monotonic() + seconds
    while True:
        engine.tick(run_id)
        run = engine.client.status(run_id)
        if run.done:
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"{engine.name}: {case.name} still {run.status} at {run.step}")
        if engine.waiting_for_event(run_id):
            if case.cancel:
                engine.client.cancel(run_id)
                continue
            if case.events and not sent:
                for event, payload in case.events:
                    engine.client.send_event(run_id, event, payload)
                sent = True
                continue
        engine.let_time_pass(run_id)


def script_answers(case: Case, workdir: Any) -> list[Any]:
    """Every activity answer in call order, from the case run on the local executor
    (``AWAIT`` where the WaitForEvent task calls its Lambda): moto's canned replies."""
    from tests.conformance.workflows.engine_local import LocalLongRunning
    from tests.conformance.workflows.engine_stepfunctions import AWAIT

    answers: list[Any] = []

    def recording(name: str) -> Any:
        def run(payload: Any) -> Any:
            try:
                result = ACTIVITIES[name](payload)
            except Exception as exc:
                answers.append(exc)
                raise
            answers.append(result)
            return result

        return run

    local = LocalLongRunning(workdir)
    local.client.activities = {name: recording(name) for name in ACTIVITIES}
    waiting = local.waiting_for_event

    def marking(run_id: str) -> bool:
        found = waiting(run_id)
        if found and AWAIT not in answers:
            answers.append(AWAIT)
        return found

    local.waiting_for_event = marking  # type: ignore[method-assign]
    drive(local, case, f"script-{case.name}")
    return answers


def xfail_reason(engine: str, case: Case) -> str | None:
    if engine == "cloud_workflows" and case.uses_events:
        return NO_EVENTS
    if engine == "cloud_workflows" and case.workflow.name.startswith("book_seats"):
        return EMULATOR_PARALLEL_FOR
    if engine == "stepfunctions" and case.cancel:
        return MOTO_STOP_WHILE_CALLBACK
    return None


@pytest.mark.parametrize("case_name", list(CASES))
@pytest.mark.parametrize("long_running", ENGINES, indirect=True)
def test_long_running_case(
    long_running: Any, case_name: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    case = CASES[case_name]
    reason = xfail_reason(long_running.name, case)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    if long_running.name == "stepfunctions":
        long_running.pending_script = script_answers(case, tmp_path)
    run_id = f"{case.input['booking_id']}-{long_running.name}"
    began = time.monotonic()
    run = drive(long_running, case, run_id)
    outcome = Outcome(
        status=run.status,
        output=run.output,
        failed_step=(run.error or {}).get("step"),
        error=(run.error or {}).get("error"),
        compensations=long_running.compensations(run),
        seconds=time.monotonic() - began,
    )
    print(f"{long_running.name} {case.name}: {outcome.seconds:.2f} s")
    assert outcome.status == case.status, run.error
    assert outcome.failed_step == case.failed_step
    assert outcome.error == case.error
    assert outcome.compensations == case.compensations
    if case.status == "succeeded":
        assert outcome.output == case.output
    else:
        assert outcome.output is None
    if case.events:  # the history shows the event the run received
        entries = long_running.client.history(run_id)
        assert ("approval", "event", "received") in {(e.step, e.kind, e.outcome) for e in entries}


@pytest.mark.parametrize("long_running", ENGINES, indirect=True)
def test_conflict_on_start(
    long_running: Any, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    if long_running.name == "cloud_workflows":
        request.applymarker(pytest.mark.xfail(strict=True, reason=NO_EXECUTIONS_API))
    payload = {"booking_id": f"{TAG}-conflict"}
    run_id = f"{TAG}-conflict-{long_running.name}"
    first = long_running.start(LINGER, payload, run_id)
    assert first.id == run_id
    assert long_running.start(LINGER, payload, run_id).id == run_id  # use_existing
    with pytest.raises(WorkflowIdInUse):
        long_running.start(LINGER, payload, run_id, on_conflict="fail")
    with pytest.raises(WorkflowIdInUse, match="different input"):
        long_running.start(LINGER, {"booking_id": "other"}, run_id)
    long_running.client.cancel(run_id)
    deadline = time.monotonic() + 10  # a cloud stops an execution asynchronously
    while long_running.client.status(run_id).status == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert long_running.client.status(run_id).status == "cancelled"


def test_a_namesake_workflow_elsewhere_in_the_process_does_not_change_a_durable_run(
    durable_long_running: Any,
) -> None:
    """A workflow name is unique within an app, not within a process: another app's
    "group_booking" (the booking test app has one) built later must not replace the
    definition a Durable branch sub-orchestration runs (it did: CI's approval case
    ended ``BranchFailed`` whenever that app was imported first)."""
    from statekit.workflows.definition import KNOWN_WORKFLOWS

    case = CASES["approval_approved"]
    original = KNOWN_WORKFLOWS[case.workflow.name]
    Workflow(case.workflow.name, [Step("other", activity="confirm")], activities=ACTIVITIES)
    try:
        assert KNOWN_WORKFLOWS[case.workflow.name] is not original
        run = drive(durable_long_running, case, f"{case.input['booking_id']}-namesake")
    finally:
        KNOWN_WORKFLOWS[case.workflow.name] = original
    assert (run.status, run.output) == ("succeeded", case.output), run.error
