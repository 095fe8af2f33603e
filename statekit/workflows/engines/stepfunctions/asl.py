"""Amazon States Language for a workflow definition (AWS Step Functions).

Each step is a Task state that invokes the activity's Lambda with Retry and a
Catch; a choice is a Choice state after it; a failure records what failed in
``$.statekit_failure`` and enters the compensation chain, one Task per
compensable step, each going to the one before it; the chain ends in a Fail
state whose error says how the run ended (``statekit.Compensated``,
``statekit.Failed``, ``statekit.CompensationFailed``) and whose cause is the
failure as JSON, which the ``stepfunctions://`` client reads back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from statekit.workflows.definition import (
    ActivityTarget,
    Compensation,
    Fail,
    Retry,
    Step,
    When,
    Workflow,
    is_path,
    target_for,
)

COMPENSATED_ERROR = "statekit.Compensated"
FAILED_ERROR = "statekit.Failed"
COMPENSATION_FAILED_ERROR = "statekit.CompensationFailed"
SUCCEEDED_STATE = "statekit__succeeded"
COMPENSATED_STATE = "statekit__compensated"
FAILED_STATE = "statekit__failed"
COMPENSATION_FAILED_STATE = "statekit__compensation_failed"
CAUGHT = "$.statekit_caught"
FAILURE = "$.statekit_failure"
COMPENSATION_FAILURE = "$.statekit_compensation_failure"


def render_asl(definition: Workflow, activity_arn: ActivityTarget) -> dict[str, Any]:
    """The state machine definition as a dict (``json.dumps`` it for the API)."""
    activity_arn_for = target_for(activity_arn)
    states: dict[str, Any] = {}
    used: set[str] = set()

    def head(stack: tuple[str, ...]) -> str:
        target = f"{stack[-1]}__undo" if stack else FAILED_STATE
        used.add(target)
        return target

    for step in definition.steps:
        stack = definition.compensation_stack[step.name]
        if isinstance(step, Fail):
            states[step.name] = {
                "Type": "Pass",
                "Result": {"step": step.name, "error": step.error, "message": step.message},
                "ResultPath": FAILURE,
                "Next": head(stack),
            }
            continue
        states[step.name] = _task(step, activity_arn_for)
        states[step.name]["Catch"] = [_catch(f"{step.name}__failed")]
        states[f"{step.name}__failed"] = _record_failure(step.name, FAILURE, head(stack))
        if step.choices:
            states[step.name]["Next"] = f"{step.name}__choice"
            default = step.next or SUCCEEDED_STATE
            used.add(default)
            states[f"{step.name}__choice"] = {
                "Type": "Choice",
                "Choices": [_choice(when) for when in step.choices],
                "Default": default,
            }
        elif step.next:
            states[step.name]["Next"] = step.next
        else:
            states[step.name]["End"] = True
    for step in definition.steps:
        if isinstance(step, Step) and step.compensate is not None:
            _add_undo(states, definition, step, activity_arn_for)
            used.add(COMPENSATED_STATE)
            used.add(COMPENSATION_FAILED_STATE)
    _add_endings(states, used)
    return {
        "Comment": f"statekit workflow {definition.name}",
        "StartAt": definition.start,
        "States": states,
    }


def _parameters(activity: str, mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    if mapping is None:
        return {"activity": activity, "input.$": "$"}
    mapped = {(f"{key}.$" if is_path(value) else key): value for key, value in mapping.items()}
    return {"activity": activity, "input": mapped}


def _retry(retry: Retry) -> list[dict[str, Any]]:
    if retry.max_attempts <= 1:
        return []
    return [
        {
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": retry.interval,
            "MaxAttempts": retry.max_attempts - 1,  # ASL counts retries, not attempts
            "BackoffRate": float(retry.backoff_rate),
            "MaxDelaySeconds": retry.max_interval,
        }
    ]


def _task(step: Step | Compensation, activity_arn_for: Callable[[str], str]) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": activity_arn_for(step.activity),
        "Parameters": _parameters(step.activity, step.input),
        "ResultPath": f"$.{step.output}" if isinstance(step, Step) and step.output else None,
    }
    if step.timeout is not None:
        state["TimeoutSeconds"] = step.timeout
    retry = _retry(step.retry)
    if retry:
        state["Retry"] = retry
    return state


def _catch(target: str) -> dict[str, Any]:
    return {"ErrorEquals": ["States.ALL"], "ResultPath": CAUGHT, "Next": target}


def _record_failure(step: str, into: str, target: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Pass",
        # The whole caught error ({"Error", "Cause"}): a path to a field the error
        # lacks would be a runtime error here, inside the failure handling itself.
        "Parameters": {"step": step, **extra, "caught.$": CAUGHT},
        "ResultPath": into,
        "Next": target,
    }


def _choice(when: When) -> dict[str, Any]:
    rule: dict[str, Any] = {"Variable": when.path, "Next": when.next}
    if when.equals is None:
        rule["IsNull"] = True
    elif isinstance(when.equals, bool):
        rule["BooleanEquals"] = when.equals
    elif isinstance(when.equals, int | float):
        rule["NumericEquals"] = when.equals
    else:
        rule["StringEquals"] = when.equals
    return rule


def _add_undo(
    states: dict[str, Any],
    definition: Workflow,
    step: Step,
    activity_arn_for: Callable[[str], str],
) -> None:
    assert step.compensate is not None
    previous = definition.compensation_before(step.name)
    undo = _task(step.compensate, activity_arn_for)
    undo["Catch"] = [_catch(f"{step.name}__undo_failed")]
    undo["Next"] = f"{previous}__undo" if previous else COMPENSATED_STATE
    states[f"{step.name}__undo"] = undo
    failed = _record_failure(
        step.name,
        COMPENSATION_FAILURE,
        COMPENSATION_FAILED_STATE,
        activity=step.compensate.activity,
    )
    failed["Parameters"]["failure.$"] = FAILURE
    states[f"{step.name}__undo_failed"] = failed


def _add_endings(states: dict[str, Any], used: set[str]) -> None:
    if SUCCEEDED_STATE in used:
        states[SUCCEEDED_STATE] = {"Type": "Succeed"}
    endings = {
        COMPENSATED_STATE: (COMPENSATED_ERROR, FAILURE),
        FAILED_STATE: (FAILED_ERROR, FAILURE),
        COMPENSATION_FAILED_STATE: (COMPENSATION_FAILED_ERROR, COMPENSATION_FAILURE),
    }
    for name, (error, cause) in endings.items():
        if name in used:
            states[name] = {
                "Type": "Fail",
                "Error": error,
                "CausePath": f"States.JsonToString({cause})",
            }
