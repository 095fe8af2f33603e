"""A Durable Functions orchestrator that interprets a workflow definition.

``orchestrator_function(definition)`` returns the generator function to
register with ``@app.orchestration_trigger`` (or ``df.Orchestrator.create``).
It calls one activity function (``statekit_activity`` by default) with
statekit's envelope. Retries are durable timers between attempts, because the
Python SDK's ``RetryOptions`` has no backoff rate or maximum interval; a step's
``timeout`` races each attempt against a durable timer. Replays are
deterministic: the code reads only the input, task results and
``current_utc_datetime``.

``Wait`` is a durable timer (``create_timer``); ``WaitForEvent`` is
``wait_for_external_event`` raced with a timer through ``task_any`` (Durable
Functions keeps an event raised before the orchestrator waits for it);
``Parallel`` and ``Map`` run each branch or item as a sub-orchestration
(``body_orchestrator_function``) joined with ``task_all``, a Map in groups of
``max_concurrency``. The step a run is at is its custom status.

A compensated run completes with ``{"statekit_ending": "compensated", ...}``
as its output (a business outcome, not a failed instance); a run that failed
raises ``WorkflowEnded``, whose message ``statekit.<Ending>: <failure JSON>``
the ``durable://`` client reads back from the instance's output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from statekit.workflows.definition import (
    BRANCH_FAILED_ERROR,
    EVENT_TIMEOUT_ERROR,
    FAILED_ITEM_KEY,
    KNOWN_WORKFLOWS,
    Compensation,
    Fail,
    Map,
    Parallel,
    Retry,
    Step,
    Wait,
    WaitForEvent,
    Workflow,
    activity_envelope,
    choose_next,
    compensated_output,
    map_input,
    named_error,
    read_path,
    wait_until,
)

DEFAULT_ACTIVITY_FUNCTION = "statekit_activity"
BODY_ORCHESTRATOR = "statekit_body"
ENDINGS = {
    "compensated": "statekit.Compensated",
    "failed": "statekit.Failed",
    "compensation_failed": "statekit.CompensationFailed",
}

Orchestrator = Callable[[Any], Generator[Any, Any, Any]]


class WorkflowEnded(Exception):
    """Ends an orchestration that did not succeed; its message carries the failure."""

    def __init__(self, ending: str, failure: dict[str, Any]) -> None:
        super().__init__(f"{ENDINGS[ending]}: {json.dumps(failure, sort_keys=True)}")
        self.ending = ending
        self.failure = failure


class AttemptTimedOut(Exception):
    def __init__(self, activity: str, timeout: int) -> None:
        super().__init__(f"ActivityTimeout: {activity} did not finish within {timeout} s")


def error_of(exc: BaseException, step: str) -> dict[str, Any]:
    text = str(exc).strip()
    found = named_error(text.splitlines()[0] if text else "")
    if found:
        return {"step": step, "error": found[0], "message": found[1]}
    return {
        "step": step,
        "error": "ActivityFailed",
        "message": text.splitlines()[0] if text else "",
    }


def _attempts(
    context: Any,
    function: str,
    activity: str,
    payload: Any,
    *,
    retry: Retry,
    timeout: int | None,
) -> Generator[Any, Any, Any]:
    attempt = 1
    while True:
        try:
            # Activities return plain JSON: no custom classes to reconstruct.
            task = context.call_activity(
                function, activity_envelope(activity, payload), expected_type=object
            )
            if timeout is None:
                return (yield task)
            deadline = context.current_utc_datetime + timedelta(seconds=timeout)
            timer = context.create_timer(deadline)
            winner = yield context.task_any([task, timer])
            if winner is timer:
                raise AttemptTimedOut(activity, timeout)
            timer.cancel()
            if isinstance(task.result, Exception):
                raise task.result
            return task.result
        except Exception:
            if attempt >= retry.max_attempts:
                raise
            attempt += 1
            pause = timedelta(seconds=retry.delay_before(attempt))
            yield context.create_timer(context.current_utc_datetime + pause)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _run_scope(
    context: Any, definition: Workflow, state: dict[str, Any], activity_function: str, body: str
) -> Generator[Any, Any, tuple[str, Any]]:
    """Interpret one scope; ``("succeeded", state)`` or ``(ending, failure dict)``."""

    def call(what: Step | Compensation, payload: Any) -> Generator[Any, Any, Any]:
        return _attempts(
            context,
            activity_function,
            what.activity,
            payload,
            retry=what.retry,
            timeout=what.timeout,
        )

    def bodies(step: Parallel | Map, inputs: list[Any], scopes: list[str]) -> list[Any]:
        return [
            context.call_sub_orchestrator(
                body,
                {"workflow": definition.root.name, "scope": scope, "state": payload},
                f"{context.instance_id}:{step.name}.{index}",
                expected_type=object,
            )
            for index, (payload, scope) in enumerate(zip(inputs, scopes, strict=True))
        ]

    prefix = f"{definition.scope_path}/" if definition.scope_path else ""
    completed: list[str] = []
    failure: dict[str, Any] | None = None
    at: str | None = definition.start
    while at is not None:
        step = definition.step(at)
        if not definition.scope_of:
            context.set_custom_status({"step": at})
        if isinstance(step, Fail):
            failure = {"step": step.name, "error": step.error, "message": step.message}
            break
        try:
            if isinstance(step, Step):
                result = yield from call(step, map_input(state, step.input))
                if step.output:
                    state = {**state, step.output: result}
                if step.compensate is not None:
                    completed.append(step.name)
                at = choose_next(step, state)
            elif isinstance(step, Wait):
                now = context.current_utc_datetime.timestamp()
                yield context.create_timer(_moment(wait_until(state, step, now)))
                at = step.next
            elif isinstance(step, WaitForEvent):
                event = context.wait_for_external_event(step.event, expected_type=object)
                if step.timeout is None:
                    payload = yield event
                else:
                    deadline = context.current_utc_datetime + timedelta(seconds=step.timeout)
                    timer = context.create_timer(deadline)
                    winner = yield context.task_any([event, timer])
                    if winner is timer:
                        if step.on_timeout:
                            at = step.on_timeout
                            continue
                        failure = {
                            "step": step.name,
                            "error": EVENT_TIMEOUT_ERROR,
                            "message": f"no {step.event!r} event within {step.timeout} s",
                        }
                        break
                    timer.cancel()
                    payload = event.result
                if step.output:
                    state = {**state, step.output: payload}
                at = choose_next(step, state)
            elif isinstance(step, Parallel):
                count = len(step.branches)
                scopes = [f"{prefix}{step.name}.{index}" for index in range(count)]
                try:
                    results = yield context.task_all(bodies(step, [state] * count, scopes))
                except Exception as exc:
                    failure = {"step": step.name, "error": BRANCH_FAILED_ERROR, "message": str(exc)}
                    break
                if step.output:
                    state = {**state, step.output: list(results)}
                at = step.next
            else:
                assert isinstance(step, Map)
                items = read_path(state, step.items)
                if not isinstance(items, list):
                    raise KeyError(f"{step.items} is not a list")
                inputs = [{"item": item} for item in items]
                tasks = bodies(step, inputs, [prefix + step.name] * len(items))
                # Bounded concurrency: one task_all per group of max_concurrency items.
                size = step.max_concurrency or max(1, len(tasks))
                results = []
                for first in range(0, len(tasks), size):
                    results += list((yield context.task_all(tasks[first : first + size])))
                failed = sum(
                    1
                    for result in results
                    if isinstance(result, dict) and result.get(FAILED_ITEM_KEY)
                )
                if failed > step.tolerated_failures:
                    failure = {
                        "step": step.name,
                        "error": BRANCH_FAILED_ERROR,
                        "message": f"more than {step.tolerated_failures} items failed",
                    }
                    break
                if step.output:
                    state = {**state, step.output: results}
                at = step.next
        except WorkflowEnded:
            raise
        except Exception as exc:
            failure = error_of(exc, step.name)
            break
    if failure is None:
        return "succeeded", state
    undone: list[str] = []
    for name in reversed(completed):
        undo = definition.step(name)
        assert isinstance(undo, Step) and undo.compensate is not None
        try:
            payload = map_input(state, undo.compensate.input)
            yield from call(undo.compensate, payload)
        except Exception as exc:
            return "compensation_failed", {
                "failure": failure,
                "compensation": error_of(exc, name),
                "compensated": undone,
            }
        undone.append(undo.compensate.activity)
    ending = "compensated" if completed else "failed"
    return ending, {"failure": failure, "compensated": undone}


def _finish(definition: Workflow, state: dict[str, Any], outcome: tuple[str, Any]) -> Any:
    ending, value = outcome
    if ending == "succeeded":
        return value
    kind = scope_kind(definition)
    if kind == "item":  # a failed Map item is a result, counted by the Map
        return {**state, FAILED_ITEM_KEY: True}
    if kind == "" and ending == "compensated":  # a business outcome: the instance completes
        return compensated_output(value["failure"], value["compensated"])
    raise WorkflowEnded(ending, value)


def scope_kind(definition: Workflow) -> str:
    """ "" for a workflow, "branch" for a Parallel branch, "item" for a Map body."""
    if not definition.scope_of:
        return ""
    return "branch" if "." in definition.scope_path.rsplit("/", 1)[-1] else "item"


def orchestrator_function(
    definition: Workflow,
    activity_function: str = DEFAULT_ACTIVITY_FUNCTION,
    body_orchestrator: str = BODY_ORCHESTRATOR,
) -> Orchestrator:
    """The orchestrator generator function for ``definition``. A workflow with a
    Parallel or Map also needs ``body_orchestrator_function()`` registered under the
    name ``body_orchestrator``: each branch and item is a sub-orchestration."""

    def orchestrator(context: Any) -> Generator[Any, Any, Any]:
        state = context.get_input(expected_type=dict)
        if not isinstance(state, dict):
            raise WorkflowEnded(
                "failed",
                {"failure": {"step": None, "error": "InvalidInput", "message": "not an object"}},
            )
        outcome = yield from _run_scope(
            context, definition, state, activity_function, body_orchestrator
        )
        return _finish(definition, state, outcome)

    orchestrator.__name__ = definition.name
    return orchestrator


def body_orchestrator_function(
    activity_function: str = DEFAULT_ACTIVITY_FUNCTION,
    body_orchestrator: str = BODY_ORCHESTRATOR,
    *,
    workflows: Iterable[Workflow] | None = None,
) -> Orchestrator:
    """The sub-orchestration that runs one Parallel branch or Map item of ``workflows``
    (default: any workflow built in this process): input ``{"workflow", "scope", "state"}``.

    Pass the app's workflows: a name is unique within an app, not within a process
    (two apps, or a test suite, may each define a "group_booking"), and a branch run
    with another workflow's body fails or, worse, runs the wrong steps."""
    own = {workflow.name: workflow for workflow in workflows} if workflows is not None else None

    def body(context: Any) -> Generator[Any, Any, Any]:
        payload = context.get_input(expected_type=dict)
        known = own if own is not None else KNOWN_WORKFLOWS
        definition = known[payload["workflow"]].scope(payload["scope"])
        state = payload["state"]
        outcome = yield from _run_scope(
            context, definition, state, activity_function, body_orchestrator
        )
        return _finish(definition, state, outcome)

    body.__name__ = body_orchestrator
    return body
