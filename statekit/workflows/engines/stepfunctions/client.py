"""``stepfunctions://REGION/ACCOUNT/STATE_MACHINE[?endpoint=URL]``: AWS Step Functions.

The state machine is the one ``render_asl`` produced (the AWS stack deploys it).
A run id is the execution name, so ``start`` with the same id and input is the
same execution; how a run ended is read from the error of its final Fail state
(``statekit.Compensated`` and so on) and the failure JSON in its cause.
"""

from __future__ import annotations

import json
from typing import Any

from statekit.errors import BackendUnavailable
from statekit.urls import ConnectionURL
from statekit.workflows.definition import (
    COMPENSATED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    Workflow,
    WorkflowIdInUse,
    WorkflowNotFound,
    WorkflowRun,
    check_run_id,
    named_error,
    wait_for_result,
)
from statekit.workflows.engines.stepfunctions.asl import (
    COMPENSATED_ERROR,
    COMPENSATION_FAILED_ERROR,
    FAILED_ERROR,
)

_ENDINGS = {COMPENSATED_ERROR: COMPENSATED, FAILED_ERROR: FAILED, COMPENSATION_FAILED_ERROR: FAILED}


def partition_for(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def lambda_error(error: str | None, cause: str | None) -> tuple[str, str]:
    """A Lambda failure's cause is ``{"errorType", "errorMessage"}`` as JSON; unwrap it."""
    try:
        parsed = json.loads(cause or "")
    except ValueError:
        return error or "Error", cause or ""
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        message = str(parsed["errorMessage"])
        # The Lambda runtime names the exception class (ActivityFailed); the
        # activity's own error name leads its message.
        inner = named_error(f"{parsed.get('errorType')}: {message}")
        if inner:
            return inner
        return str(parsed.get("errorType") or error), message
    return error or "Error", cause or ""


class StepFunctionsWorkflows:
    def __init__(self, region: str, account: str, state_machine: str, client: Any) -> None:
        self.client = client
        partition = partition_for(region)
        self.state_machine_arn = (
            f"arn:{partition}:states:{region}:{account}:stateMachine:{state_machine}"
        )
        self._execution_prefix = (
            f"arn:{partition}:states:{region}:{account}:execution:{state_machine}:"
        )
        self._undo_activities: dict[str, str] | None = None

    @classmethod
    def from_url(cls, url: ConnectionURL) -> StepFunctionsWorkflows:
        url.require_known_params({"endpoint"})
        parts = url.path_parts()
        if not url.host or len(parts) != 2:
            raise url.error("expected stepfunctions://REGION/ACCOUNT/STATE_MACHINE_NAME")
        import boto3

        client = boto3.client(
            "stepfunctions", region_name=url.host, endpoint_url=url.param("endpoint")
        )
        return cls(url.host, parts[0], parts[1], client)

    def execution_arn(self, run_id: str) -> str:
        return self._execution_prefix + check_run_id(run_id)

    def start(self, workflow: Workflow | str, input: Any, id: str) -> WorkflowRun:
        body = json.dumps(input, separators=(",", ":"), sort_keys=True)
        try:
            self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=check_run_id(id), input=body
            )
        except self.client.exceptions.ExecutionAlreadyExists:
            # Same name: the same run if the input is the same, else the id is taken.
            described = self._describe(id)
            if json.loads(described.get("input") or "null") != json.loads(body):
                raise WorkflowIdInUse(id, "it was started with a different input") from None
        except self.client.exceptions.StateMachineDoesNotExist as exc:
            raise WorkflowNotFound(self.state_machine_arn) from exc
        return self.status(id)

    def _describe(self, run_id: str) -> dict[str, Any]:
        try:
            described: dict[str, Any] = self.client.describe_execution(
                executionArn=self.execution_arn(run_id)
            )
        except self.client.exceptions.ExecutionDoesNotExist:
            raise WorkflowNotFound(run_id) from None
        except Exception as exc:
            if "Could not connect" in str(exc):
                raise BackendUnavailable("stepfunctions", "describe_execution", exc) from exc
            raise
        return described

    def status(self, id: str) -> WorkflowRun:
        described = self._describe(id)
        name = self.state_machine_arn.rsplit(":", 1)[-1]
        state = described["status"]
        if state in ("RUNNING", "PENDING_REDRIVE"):
            return WorkflowRun(id, name, RUNNING)
        if state == "SUCCEEDED":
            return WorkflowRun(
                id, name, SUCCEEDED, output=json.loads(described.get("output") or "null")
            )
        error_name = described.get("error")
        cause = described.get("cause")
        ending = _ENDINGS.get(error_name or "")
        if ending is None:  # an ASL runtime error, a timeout or an abort: not ours
            message = cause or state
            return WorkflowRun(
                id,
                name,
                FAILED,
                error={"step": None, "error": error_name or state, "message": message},
            )
        failure = json.loads(cause or "{}")
        if error_name == COMPENSATION_FAILED_ERROR:
            original = self._error(failure.get("failure") or {})
            error = {**original, "compensation": self._error(failure)}
        else:
            error = self._error(failure)
        compensated = self._compensations(id) if ending == COMPENSATED else ()
        return WorkflowRun(id, name, ending, error=error, compensated=compensated)

    @staticmethod
    def _error(failure: dict[str, Any]) -> dict[str, Any]:
        caught = failure.get("caught")
        if isinstance(caught, dict):  # a Catch: {"Error", "Cause"}
            error, message = lambda_error(caught.get("Error"), caught.get("Cause"))
        else:  # a Fail step: its own error and message
            error, message = lambda_error(failure.get("error"), failure.get("message"))
        return {"step": failure.get("step"), "error": error, "message": message}

    def _undo_states(self) -> dict[str, str]:
        """Compensation Task state name -> its activity, from the deployed definition (once).

        The activity is read from the definition, not from the history: a history's
        scheduled events need not carry the task's input (MiniStack's do not), while
        every history names the states entered.
        """
        if self._undo_activities is None:
            described = self.client.describe_state_machine(stateMachineArn=self.state_machine_arn)
            states = json.loads(described["definition"]).get("States", {})
            self._undo_activities = {
                name: str(state["Parameters"]["activity"])
                for name, state in states.items()
                if name.endswith("__undo")
                and state.get("Type") == "Task"
                and "activity" in (state.get("Parameters") or {})
            }
        return self._undo_activities

    def _compensations(self, run_id: str) -> tuple[str, ...]:
        """The compensation activities that succeeded, in order, from the execution history."""
        undo = self._undo_states()
        done: list[str] = []
        state = ""
        paginator = self.client.get_paginator("get_execution_history")
        for page in paginator.paginate(executionArn=self.execution_arn(run_id)):
            for event in page["events"]:
                if "stateEnteredEventDetails" in event:
                    state = event["stateEnteredEventDetails"]["name"]
                if event["type"] in ("LambdaFunctionSucceeded", "TaskSucceeded") and state in undo:
                    done.append(undo[state])
        return tuple(done)

    def result(self, id: str, wait: float = 0.0) -> Any:
        return wait_for_result(self.status, id, wait, first_delay=0.1)
