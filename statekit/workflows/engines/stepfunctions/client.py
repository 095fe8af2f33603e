"""``stepfunctions://REGION/ACCOUNT/STATE_MACHINE[?endpoint=URL&store=URL]``: AWS Step Functions.

The state machine is the one ``render_asl`` produced (the AWS stack deploys it).
A run id is the execution name, so ``start`` with the same id and input is the
same execution. A compensated run is a succeeded execution whose output is
``{"statekit_ending": "compensated", ...}``; a failed one ends in a Fail state
(``statekit.Failed``, ``statekit.CompensationFailed``) with the failure JSON as
its cause. ``send_event`` reads the task token that the activity side kept in
the store (``callbacks.py``) and calls ``SendTaskSuccess``; an event sent before
the run waits is kept there and delivered when it does. ``cancel`` is
``StopExecution`` (the run ends ``cancelled``).
"""

from __future__ import annotations

import builtins
import contextlib
import json
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from statekit.errors import InvalidURL
from statekit.store import Store, open_store
from statekit.urls import ConnectionURL
from statekit.workflows.callbacks import callback_key, keep_pending, take_pending
from statekit.workflows.definition import (
    CANCELLED,
    COMPENSATED,
    FAILED,
    RESERVED_STATE_PREFIX,
    RUNNING,
    SUCCEEDED,
    RunPage,
    StepRecord,
    Workflow,
    WorkflowIdInUse,
    WorkflowNotFound,
    WorkflowRun,
    check_on_conflict,
    check_run_id,
    ending_of,
    named_error,
    wait_for_result,
)
from statekit.workflows.engines.reaching import reaching
from statekit.workflows.engines.stepfunctions.asl import (
    BRANCH_ERROR,
    COMPENSATED_ERROR,
    COMPENSATION_FAILED_ERROR,
    FAILED_ERROR,
)

_ENDINGS = {COMPENSATED_ERROR: COMPENSATED, FAILED_ERROR: FAILED, COMPENSATION_FAILED_ERROR: FAILED}

# Short timeouts and bounded retries, as for the other AWS backends: an endpoint that
# is down is BackendUnavailable in seconds, not after the SDK's default minute per try.
CLIENT_CONFIG = {
    "connect_timeout": 2,
    "read_timeout": 10,
    "retries": {"max_attempts": 3, "mode": "standard"},
}
# Answers that mean "try later" once the SDK's own retries are spent.
UNAVAILABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalServerError",
        "InternalFailure",
    }
)


def unavailable(exc: Exception) -> bool:
    """Refused or timed-out connections, throttling and 5xx answers; every other answer
    (a missing execution...) is the method's to handle."""
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in UNAVAILABLE_CODES or status >= 500
    return False


reaching_the_service = reaching("stepfunctions", unavailable)


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


def clean_output(output: Any) -> Any:
    """The state without the bookkeeping fields the ASL adds (``statekit_*``)."""
    if isinstance(output, dict):
        return {k: v for k, v in output.items() if not k.startswith(RESERVED_STATE_PREFIX)}
    return output


_STATUS_FILTER = {RUNNING: "RUNNING", FAILED: "FAILED", CANCELLED: "ABORTED"}


class StepFunctionsWorkflows:
    def __init__(
        self,
        region: str,
        account: str,
        state_machine: str,
        client: Any,
        store: Store | None = None,
    ) -> None:
        self.client = client
        self._store = store
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
        url.require_known_params({"endpoint", "store"})
        parts = url.path_parts()
        if not url.host or len(parts) != 2:
            raise url.error("expected stepfunctions://REGION/ACCOUNT/STATE_MACHINE_NAME")
        store = None
        if url.param("store"):
            try:
                store = open_store(url.param("store"))
            except InvalidURL as exc:
                raise url.error(f"its store URL is invalid: {exc}") from None
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "stepfunctions",
            region_name=url.host,
            endpoint_url=url.param("endpoint"),
            config=Config(**CLIENT_CONFIG),
        )
        return cls(url.host, parts[0], parts[1], client, store)

    @property
    def store(self) -> Store:
        """Where the task tokens of waiting runs are (``$STATEKIT_STORE_URL`` by default)."""
        if self._store is None:
            self._store = open_store()
        return self._store

    def execution_arn(self, run_id: str) -> str:
        return self._execution_prefix + check_run_id(run_id)

    @reaching_the_service
    def start(
        self, workflow: Workflow | str, input: Any, id: str, on_conflict: str = "use_existing"
    ) -> WorkflowRun:
        check_on_conflict(on_conflict)
        body = json.dumps(input, separators=(",", ":"), sort_keys=True)
        if on_conflict == "fail":
            # StartExecution with the name and input of a running execution succeeds
            # (it is idempotent), so a conflict is looked for first.
            try:
                self._describe(id)
            except WorkflowNotFound:
                pass
            else:
                raise WorkflowIdInUse(id, "a run with this id exists")
        try:
            self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=check_run_id(id), input=body
            )
        except self.client.exceptions.ExecutionAlreadyExists:
            if on_conflict == "fail":
                raise WorkflowIdInUse(id, "a run with this id exists") from None
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
        return described

    @reaching_the_service
    def status(self, id: str) -> WorkflowRun:
        return self._run_of(id, self._describe(id))

    def _run_of(self, id: str, described: dict[str, Any]) -> WorkflowRun:
        name = self.state_machine_arn.rsplit(":", 1)[-1]
        state = described["status"]
        if state in ("RUNNING", "PENDING_REDRIVE"):
            step, so_far = self._current(id)
            return WorkflowRun(id, name, RUNNING, step=step, state=clean_output(so_far))
        if state == "ABORTED":
            return WorkflowRun(id, name, CANCELLED)
        if state == "SUCCEEDED":
            output = json.loads(described.get("output") or "null")
            if ending_of(output) == COMPENSATED:
                return WorkflowRun(
                    id,
                    name,
                    COMPENSATED,
                    error=self._error(output.get("failure") or {}),
                    compensated=self._compensations(id),
                )
            return WorkflowRun(id, name, SUCCEEDED, output=clean_output(output))
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
        if isinstance(caught, dict) and caught.get("Error") == BRANCH_ERROR:
            error, message = BRANCH_ERROR.split(".", 1)[1], str(caught.get("Cause") or "")
        elif isinstance(caught, dict):  # a Catch: {"Error", "Cause"}
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
        done: builtins.list[str] = []
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

    def _events(self, run_id: str) -> builtins.list[dict[str, Any]]:
        events: builtins.list[dict[str, Any]] = []
        paginator = self.client.get_paginator("get_execution_history")
        for page in paginator.paginate(executionArn=self.execution_arn(run_id)):
            events += page["events"]
        return events

    def _current(self, run_id: str) -> tuple[str | None, Any]:
        """The step a running execution is at (its last entered state) and its input."""
        for event in reversed(self._events(run_id)):
            entered = event.get("stateEnteredEventDetails")
            if entered:
                return entered["name"].split("__", 1)[0], json.loads(entered.get("input") or "null")
        return None, None

    @reaching_the_service
    def send_event(self, run_id: str, event: str, payload: Any = None) -> None:
        """``SendTaskSuccess`` with the token of the run waiting for ``event``; an event
        for a run not waiting yet is kept and delivered when it waits."""
        run_id = check_run_id(run_id)
        self._describe(run_id)  # WorkflowNotFound for an unknown run
        keep_pending(self.store, run_id, event, payload)
        kept = self.store.get(callback_key(run_id, event))
        if kept is None or "token" not in kept.value:
            return
        over = (  # that wait is over (timed out): nothing is waiting for it any more
            self.client.exceptions.TaskTimedOut,
            self.client.exceptions.InvalidToken,
            self.client.exceptions.TaskDoesNotExist,
        )
        with contextlib.suppress(*over):
            self.client.send_task_success(taskToken=kept.value["token"], output=json.dumps(payload))
        self.store.delete(callback_key(run_id, event))
        take_pending(self.store, run_id, event)

    @reaching_the_service
    def cancel(self, run_id: str) -> WorkflowRun:
        try:
            self.client.stop_execution(executionArn=self.execution_arn(run_id))
        except self.client.exceptions.ExecutionDoesNotExist:
            raise WorkflowNotFound(run_id) from None
        return self.status(run_id)

    @reaching_the_service
    def list(
        self,
        workflow: str | None = None,
        status: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        """Executions of this state machine, newest first (``ListExecutions``)."""
        request: dict[str, Any] = {"stateMachineArn": self.state_machine_arn, "maxResults": limit}
        if status in _STATUS_FILTER:
            request["statusFilter"] = _STATUS_FILTER[status]
        elif status in (SUCCEEDED, COMPENSATED):
            request["statusFilter"] = "SUCCEEDED"  # told apart by the output below
        if cursor:
            request["nextToken"] = cursor
        page = self.client.list_executions(**request)
        runs = []
        for execution in page["executions"]:
            run = self.status(execution["name"])
            if status in (None, run.status):
                runs.append(run)
        return RunPage(runs, page.get("nextToken"))

    @reaching_the_service
    def history(self, run_id: str) -> builtins.list[StepRecord]:
        """Each attempt of each Task (undo tasks as ``undo``), Wait and callback task."""
        entries: builtins.list[StepRecord] = []
        state = ""
        attempts: dict[str, int] = {}
        open_entry: dict[str, Any] | None = None

        def stamp(event: dict[str, Any]) -> float | None:
            moment = event.get("timestamp")
            return moment.timestamp() if isinstance(moment, datetime) else None

        def close(outcome: str, at: float | None) -> None:
            nonlocal open_entry
            if open_entry is not None:
                entries.append(StepRecord(**{**open_entry, "ended": at, "outcome": outcome}))
                open_entry = None

        for event in self._events(run_id):
            kind = event["type"]
            if "stateEnteredEventDetails" in event:
                state = event["stateEnteredEventDetails"]["name"]
                if kind == "WaitStateEntered":
                    open_entry = _entry(state, "wait", 1, stamp(event))
            elif kind == "WaitStateExited":
                close("succeeded", stamp(event))
            elif kind in ("TaskScheduled", "LambdaFunctionScheduled"):
                base = state.split("__", 1)[0]
                undo = state.endswith("__undo")
                callback = "waitForTaskToken" in str(
                    (event.get("taskScheduledEventDetails") or {}).get("resource")
                )
                attempts[state] = attempts.get(state, 0) + 1
                what = "undo" if undo else "event" if callback else "step"
                open_entry = _entry(base, what, attempts[state], stamp(event))
            elif kind in ("TaskSucceeded", "LambdaFunctionSucceeded"):
                close(
                    "received" if open_entry and open_entry["kind"] == "event" else "succeeded",
                    stamp(event),
                )
            elif kind in ("TaskFailed", "LambdaFunctionFailed"):
                close("failed", stamp(event))
            elif kind in ("TaskTimedOut", "LambdaFunctionTimedOut"):
                close("timed_out", stamp(event))
        if open_entry is not None:
            entries.append(StepRecord(**open_entry))
        return entries


def _entry(step: str, kind: str, attempt: int, started: float | None) -> dict[str, Any]:
    return {
        "step": step,
        "kind": kind,
        "attempt": attempt,
        "started": started,
        "ended": None,
        "outcome": "running",
    }
