"""Amazon States Language for a workflow definition (AWS Step Functions).

- ``Step``: a Task that invokes the activity's Lambda with Retry and a Catch; a
  choice is a Choice state after it.
- ``Wait``: a Wait state (``Seconds`` or ``TimestampPath``).
- ``WaitForEvent``: a Task on ``lambda:invoke.waitForTaskToken``: the activity
  function gets ``{"activity": "statekit_await_event", "input": {"run_id",
  "event", "token"}}`` and keeps the token in the store under the run and event
  (``statekit.workflows.callbacks``); ``send_event`` calls ``SendTaskSuccess``
  with it. ``TimeoutSeconds`` is caught (``States.Timeout``) into ``on_timeout``.
- ``Parallel``: a Parallel state, each branch rendered as its own scope; a
  failed branch undoes its own steps and ends in a Fail ``statekit.BranchFailed``
  that the Parallel's Catch takes into the outer compensation chain.
- ``Map``: an inline Map (``ItemSelector`` ``{"item": ...}``, ``MaxConcurrency``);
  a failed item undoes its own steps and ends as ``{"item", "statekit_failed":
  true}``; after the Map a Pass counts those and a Choice fails the step when
  there are more than ``tolerated_failures`` (``ToleratedFailureCount`` exists
  only in Distributed Map).

A failure records what failed in ``$.statekit_failure`` and enters the chain of
compensations, one Task per compensable step. A run that was compensated ends
as a *successful* execution whose output is ``{"statekit_ending":
"compensated", "failure": ...}`` (so the stack's failure alarms fire only on
real failures); a run that failed with nothing to undo, or whose undo failed,
ends in a Fail state (``statekit.Failed``, ``statekit.CompensationFailed``)
whose cause is the failure as JSON. The ``stepfunctions://`` client reads both back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from statekit.workflows.definition import (
    BRANCH_FAILED_ERROR,
    COMPENSATED,
    ENDING_KEY,
    EVENT_TIMEOUT_ERROR,
    FAILED_ITEM_KEY,
    ActivityTarget,
    Compensation,
    Fail,
    Map,
    Parallel,
    Retry,
    Step,
    Wait,
    WaitForEvent,
    When,
    Workflow,
    is_path,
    target_for,
)

COMPENSATED_ERROR = "statekit.Compensated"  # kept for executions started before 2026-12
FAILED_ERROR = "statekit.Failed"
COMPENSATION_FAILED_ERROR = "statekit.CompensationFailed"
BRANCH_ERROR = "statekit." + BRANCH_FAILED_ERROR
SUCCEEDED_STATE = "statekit__succeeded"
COMPENSATED_STATE = "statekit__compensated"
FAILED_STATE = "statekit__failed"
COMPENSATION_FAILED_STATE = "statekit__compensation_failed"
CAUGHT = "$.statekit_caught"
FAILURE = "$.statekit_failure"
COMPENSATION_FAILURE = "$.statekit_compensation_failure"
COUNT = "$.statekit_count"
ITEMS = "$.statekit_items"
# The activity the WaitForEvent task invokes: it keeps the task token (callbacks.py).
AWAIT_EVENT_ACTIVITY = "statekit_await_event"
CALLBACK_RESOURCE = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def render_asl(definition: Workflow, activity_arn: ActivityTarget) -> dict[str, Any]:
    """The state machine definition as a dict (``json.dumps`` it for the API)."""
    scope = _render(definition, target_for(activity_arn))
    return {"Comment": f"statekit workflow {definition.name}", **scope}


def _slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", path)


def _render(definition: Workflow, activity_arn_for: Callable[[str], str]) -> dict[str, Any]:
    """``{"StartAt", "States"}`` of one scope: the workflow, a branch or a Map body."""
    kind = _kind(definition)
    suffix = f"__{_slug(definition.scope_path)}" if kind else ""
    names = {
        "succeeded": SUCCEEDED_STATE + suffix,
        "compensated": COMPENSATED_STATE + suffix,
        "failed": FAILED_STATE + suffix,
        "compensation_failed": COMPENSATION_FAILED_STATE + suffix,
    }
    states: dict[str, Any] = {}
    used: set[str] = set()

    def head(stack: tuple[str, ...]) -> str:
        target = f"{stack[-1]}__undo" if stack else names["failed"]
        used.add(target)
        return target

    def then(state: dict[str, Any], following: str | None) -> None:
        if following:
            state["Next"] = following
        else:
            state["End"] = True

    for step in definition.steps:
        stack = definition.compensation_stack[step.name]
        failed = f"{step.name}__failed"
        if isinstance(step, Fail):
            states[step.name] = {
                "Type": "Pass",
                "Result": {"step": step.name, "error": step.error, "message": step.message},
                "ResultPath": FAILURE,
                "Next": head(stack),
            }
            continue
        if isinstance(step, Wait):
            wait: dict[str, Any] = {"Type": "Wait"}
            if step.seconds is not None:
                wait["Seconds"] = step.seconds
            else:
                wait["TimestampPath"] = step.until
            then(wait, step.next)
            states[step.name] = wait
            continue
        if isinstance(step, Step):
            states[step.name] = _task(step, activity_arn_for)
        elif isinstance(step, WaitForEvent):
            states[step.name] = _await_event(step, activity_arn_for, head(stack))
        elif isinstance(step, Parallel):
            states[step.name] = {
                "Type": "Parallel",
                "Branches": [
                    _render(definition.scope(f"{step.name}.{index}"), activity_arn_for)
                    for index in range(len(step.branches))
                ],
                "ResultPath": f"$.{step.output}" if step.output else None,
            }
        else:
            assert isinstance(step, Map)
            _add_map(states, definition, step, activity_arn_for, head(stack))
        states[step.name]["Catch"] = [
            *states[step.name].get("Catch", []),
            _catch(failed),
        ]
        states[failed] = _record_failure(step.name, FAILURE, head(stack))
        last = f"{step.name}__check" if isinstance(step, Map) else step.name
        choices = step.choices if isinstance(step, Step | WaitForEvent) else ()
        following = step.next
        if choices:
            states[last]["Next"] = f"{step.name}__choice"
            default = following or names["succeeded"]
            used.add(default)
            states[f"{step.name}__choice"] = {
                "Type": "Choice",
                "Choices": [_choice(when) for when in choices],
                "Default": default,
            }
        elif isinstance(step, Map):
            states[last]["Default"] = following or names["succeeded"]
            used.add(following or names["succeeded"])
        else:
            then(states[last], following)
    for step in definition.steps:
        if isinstance(step, Step) and step.compensate is not None:
            _add_undo(states, definition, step, activity_arn_for, names)
            used.add(names["compensated"])
            used.add(names["compensation_failed"])
    _add_endings(states, used, names, kind)
    return {"StartAt": definition.start, "States": states}


def _kind(definition: Workflow) -> str:
    """ "" for the workflow itself, "branch" for a Parallel branch, "item" for a Map body."""
    if not definition.scope_of:
        return ""
    last = definition.scope_path.rsplit("/", 1)[-1]
    return "branch" if "." in last else "item"


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


def _await_event(
    step: WaitForEvent, activity_arn_for: Callable[[str], str], chain_head: str
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": CALLBACK_RESOURCE,
        "Parameters": {
            "FunctionName": activity_arn_for(AWAIT_EVENT_ACTIVITY),
            "Payload": {
                "activity": AWAIT_EVENT_ACTIVITY,
                "input": {
                    "run_id.$": "$$.Execution.Name",
                    "event": step.event,
                    "token.$": "$$.Task.Token",
                },
            },
        },
        "ResultPath": f"$.{step.output}" if step.output else None,
    }
    if step.timeout is not None:
        state["TimeoutSeconds"] = step.timeout
        target = step.on_timeout or f"{step.name}__timed_out"
        state["Catch"] = [{"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": target}]
    return state


def _add_map(
    states: dict[str, Any],
    definition: Workflow,
    step: Map,
    activity_arn_for: Callable[[str], str],
    chain_head: str,
) -> None:
    results = f"$.{step.output}" if step.output else ITEMS
    body = _render(definition.scope(step.name), activity_arn_for)
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemsPath": step.items,
        "ItemSelector": {"item.$": "$$.Map.Item.Value"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, **body},
        "ResultPath": results,
        "Next": f"{step.name}__count",
    }
    if step.max_concurrency:
        state["MaxConcurrency"] = step.max_concurrency
    states[step.name] = state
    states[f"{step.name}__count"] = {
        "Type": "Pass",
        "Parameters": {
            "failed.$": f"States.ArrayLength({results}[?(@.{FAILED_ITEM_KEY} == true)])"
        },
        "ResultPath": COUNT,
        "Next": f"{step.name}__check",
    }
    states[f"{step.name}__check"] = {
        "Type": "Choice",
        "Choices": [
            {
                "Variable": f"{COUNT}.failed",
                "NumericGreaterThan": step.tolerated_failures,
                "Next": f"{step.name}__too_many",
            }
        ],
    }
    states[f"{step.name}__too_many"] = {
        "Type": "Pass",
        "Result": {
            "step": step.name,
            "error": BRANCH_FAILED_ERROR,
            "message": f"more than {step.tolerated_failures} items failed",
        },
        "ResultPath": FAILURE,
        "Next": chain_head,
    }


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
    names: dict[str, str],
) -> None:
    assert step.compensate is not None
    previous = definition.compensation_before(step.name)
    undo = _task(step.compensate, activity_arn_for)
    undo["Catch"] = [_catch(f"{step.name}__undo_failed")]
    undo["Next"] = f"{previous}__undo" if previous else names["compensated"]
    states[f"{step.name}__undo"] = undo
    failed = _record_failure(
        step.name,
        COMPENSATION_FAILURE,
        names["compensation_failed"],
        activity=step.compensate.activity,
    )
    failed["Parameters"]["failure.$"] = FAILURE
    states[f"{step.name}__undo_failed"] = failed


def _add_endings(states: dict[str, Any], used: set[str], names: dict[str, str], kind: str) -> None:
    for step_name, state in list(states.items()):
        if step_name.endswith("__timed_out"):
            continue
        for catch in state.get("Catch", []):
            target = catch["Next"]
            if target.endswith("__timed_out") and target not in states:
                owner = target[: -len("__timed_out")]
                states[target] = {
                    "Type": "Pass",
                    "Result": {
                        "step": owner,
                        "error": EVENT_TIMEOUT_ERROR,
                        "message": "no event within the timeout",
                    },
                    "ResultPath": FAILURE,
                    "Next": _head_of(states, owner),
                }
    if names["succeeded"] in used:
        states[names["succeeded"]] = {"Type": "Succeed"}
    failures = {
        names["compensated"]: (COMPENSATED, FAILURE),
        names["failed"]: (FAILED_ERROR, FAILURE),
        names["compensation_failed"]: (COMPENSATION_FAILED_ERROR, COMPENSATION_FAILURE),
    }
    for name, (error, cause) in failures.items():
        if name not in used:
            continue
        if kind == "item":  # a failed Map item is an output, counted after the Map
            states[name] = {
                "Type": "Pass",
                "Parameters": {"item.$": "$.item", FAILED_ITEM_KEY: True},
                "End": True,
            }
        elif kind == "branch":  # a failed branch fails the Parallel (its Catch)
            states[name] = {
                "Type": "Fail",
                "Error": BRANCH_ERROR,
                "CausePath": f"States.JsonToString({cause})",
            }
        elif error == COMPENSATED:  # a business outcome: the execution succeeds
            states[name] = {
                "Type": "Pass",
                "Parameters": {ENDING_KEY: COMPENSATED, "failure.$": FAILURE},
                "End": True,
            }
        else:
            states[name] = {
                "Type": "Fail",
                "Error": error,
                "CausePath": f"States.JsonToString({cause})",
            }


def _head_of(states: dict[str, Any], step: str) -> str:
    """Where ``step``'s failure goes: the same target as its ``__failed`` Pass."""
    target: str = states[f"{step}__failed"]["Next"]
    return target
