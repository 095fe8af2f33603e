"""A Durable Functions orchestrator that interprets a workflow definition.

``orchestrator_function(definition)`` returns the generator function to
register with ``@app.orchestration_trigger`` (or ``df.Orchestrator.create``).
It calls one activity function (``statekit_activity`` by default) with
statekit's envelope. Retries are durable timers between attempts, because the
Python SDK's ``RetryOptions`` has no backoff rate or maximum interval; a step's
``timeout`` races each attempt against a durable timer. Replays are
deterministic: the code reads only the input, task results and
``current_utc_datetime``.

A run that does not succeed raises ``WorkflowEnded``, whose message
``statekit.<Ending>: <failure JSON>`` the ``durable://`` client reads back from
the instance's output.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from datetime import timedelta
from typing import Any

from statekit.workflows.definition import (
    Compensation,
    Fail,
    Retry,
    Step,
    Workflow,
    activity_envelope,
    choose_next,
    map_input,
    named_error,
)

DEFAULT_ACTIVITY_FUNCTION = "statekit_activity"
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


def orchestrator_function(
    definition: Workflow, activity_function: str = DEFAULT_ACTIVITY_FUNCTION
) -> Orchestrator:
    """The orchestrator generator function for ``definition``."""

    def call(context: Any, what: Step | Compensation, payload: Any) -> Generator[Any, Any, Any]:
        return _attempts(
            context,
            activity_function,
            what.activity,
            payload,
            retry=what.retry,
            timeout=what.timeout,
        )

    def orchestrator(context: Any) -> Generator[Any, Any, Any]:
        state = context.get_input(expected_type=dict)
        if not isinstance(state, dict):
            raise WorkflowEnded(
                "failed",
                {"failure": {"step": None, "error": "InvalidInput", "message": "not an object"}},
            )
        completed: list[str] = []
        failure: dict[str, Any] | None = None
        at: str | None = definition.start
        while at is not None:
            step = definition.step(at)
            if isinstance(step, Fail):
                failure = {"step": step.name, "error": step.error, "message": step.message}
                break
            try:
                result = yield from call(context, step, map_input(state, step.input))
                if step.output:
                    state = {**state, step.output: result}
                if step.compensate is not None:
                    completed.append(step.name)
                at = choose_next(step, state)
            except WorkflowEnded:
                raise
            except Exception as exc:
                failure = error_of(exc, step.name)
                break
        if failure is None:
            return state
        undone: list[str] = []
        for name in reversed(completed):
            undo = definition.step(name)
            assert isinstance(undo, Step) and undo.compensate is not None
            try:
                payload = map_input(state, undo.compensate.input)
                yield from call(context, undo.compensate, payload)
            except Exception as exc:
                raise WorkflowEnded(
                    "compensation_failed",
                    {
                        "failure": failure,
                        "compensation": error_of(exc, name),
                        "compensated": undone,
                    },
                ) from None
            undone.append(undo.compensate.activity)
        ending = "compensated" if completed else "failed"
        raise WorkflowEnded(ending, {"failure": failure, "compensated": undone})

    orchestrator.__name__ = definition.name
    return orchestrator
