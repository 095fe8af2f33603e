"""The saga's ASL on moto server's Step Functions, with execution turned on.

Deviation handled here: moto runs no Lambda code without Docker. Its Lambda
returns canned responses in order (POST /moto-api/static/lambda-simple/response),
so each activity attempt's answer is queued from the scripted local run. moto
never reports a function error for a canned response, except one: a response
over Lambda's 6 MB payload limit comes back as FunctionError
``Function.ResponseSizeTooLarge``, the same path an activity's exception takes
on AWS (FunctionError -> Retry -> Catch). A failing attempt is queued as that.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.request
import uuid
from typing import Any

import boto3

from handlers.saga import ORDER_SAGA
from statekit.workflows import WorkflowFailed
from statekit.workflows.engines.stepfunctions.asl import render_asl
from statekit.workflows.engines.stepfunctions.client import StepFunctionsWorkflows
from tests.conformance.workflows.outcome import Outcome
from tests.conformance.workflows.saga_script import Scenario

REGION = "us-east-1"
ACCOUNT = "123456789012"
OVERSIZED = "x" * 6_100_000  # > moto's 6,000,000-byte check on an invoke response


def activity_arn(activity: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:statekit-{activity}"


class StepFunctionsEngine:
    def __init__(self, moto: Any) -> None:
        self.endpoint = moto.endpoint
        moto.configure(
            {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self.sfn = boto3.client(
            "stepfunctions",
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.machine = f"place-order-{uuid.uuid4().hex[:8]}"
        self.asl = render_asl(ORDER_SAGA, activity_arn)
        self.sfn.create_state_machine(
            name=self.machine,
            definition=json.dumps(self.asl),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/statekit-workflows",
        )
        self.client = StepFunctionsWorkflows(REGION, ACCOUNT, self.machine, self.sfn)

    def queue_lambda_results(self, scenario: Scenario) -> None:
        results = [
            OVERSIZED if call.error is not None else json.dumps(call.result)
            for call in scenario.calls
        ]
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/static/lambda-simple/response",
            data=json.dumps({"results": results, "region": REGION}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30):
            pass

    def run(self, scenario: Scenario) -> Outcome:
        self.queue_lambda_results(scenario)
        began = time.monotonic()
        run_id = scenario.order["order_id"]
        self.client.start(ORDER_SAGA, scenario.order, run_id)
        with contextlib.suppress(WorkflowFailed):  # the status below says how it ended
            self.client.result(run_id, wait=60)
        run = self.client.status(run_id)
        seconds = time.monotonic() - began
        calls, inputs = self._lambda_calls(run_id)
        return Outcome(
            status=run.status,
            output=run.output,
            failed_step=(run.error or {}).get("step"),
            error=run.error,
            compensations=tuple(run.compensated),
            calls=calls,
            inputs=inputs,
            seconds=seconds,
        )

    def _lambda_calls(self, run_id: str) -> tuple[list[str], list[Any]]:
        history = self.sfn.get_execution_history(executionArn=self.client.execution_arn(run_id))
        calls: list[str] = []
        inputs: list[Any] = []
        for event in history["events"]:
            details = event.get("lambdaFunctionScheduledEventDetails")
            if details:
                calls.append(details["resource"].rsplit(":statekit-", 1)[-1])
                inputs.append(json.loads(details["input"]))
        return calls, inputs


AWAIT = object()  # where the WaitForEvent task invokes its Lambda (moto answers "{}")


class StepFunctionsLongRunning:
    """The long-running cases on moto's Step Functions (Wait, Parallel, inline Map,
    ``.waitForTaskToken`` and ``SendTaskSuccess``, ``StopExecution`` all execute).

    Deviation handled here, as for the saga: moto's Lambda runs no code, so each
    call's answer is queued from the same case run on the local executor, and
    this harness plays the activity side of ``WaitForEvent``: it reads the task
    token from the TaskScheduled event and keeps it in the store as the Lambda
    would (``statekit.workflows.callbacks.handle_callback_activity``).
    """

    name = "stepfunctions"

    def __init__(self, moto: Any) -> None:
        from statekit.store import open_store

        self.endpoint = moto.endpoint
        moto.configure(
            {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self.sfn = boto3.client(
            "stepfunctions",
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.store = open_store("memory://")
        self.clients: dict[str, StepFunctionsWorkflows] = {}
        self.handled: set[str] = set()
        self.client: StepFunctionsWorkflows | None = None
        self.pending_script: list[Any] | None = None

    def _client(self, workflow: Any) -> StepFunctionsWorkflows:
        if workflow.name not in self.clients:
            machine = f"{workflow.name}-{uuid.uuid4().hex[:8]}"
            self.sfn.create_state_machine(
                name=machine,
                definition=json.dumps(render_asl(workflow, activity_arn)),
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/statekit-workflows",
            )
            self.clients[workflow.name] = StepFunctionsWorkflows(
                REGION, ACCOUNT, machine, self.sfn, self.store
            )
        return self.clients[workflow.name]

    def queue(self, answers: list[Any]) -> None:
        results = [
            "{}"
            if answer is AWAIT
            else OVERSIZED
            if isinstance(answer, Exception)
            else json.dumps(answer)
            for answer in answers
        ]
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/static/lambda-simple/response",
            data=json.dumps({"results": results, "region": REGION}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30):
            pass

    def start(
        self, workflow: Any, payload: Any, run_id: str, on_conflict: str = "use_existing"
    ) -> Any:
        self.client = self._client(workflow)
        if self.pending_script is not None:
            self.queue(self.pending_script)
            self.pending_script = None
        return self.client.start(workflow, payload, run_id, on_conflict=on_conflict)

    def tick(self, run_id: str) -> None:
        """The activity side of WaitForEvent: keep each new task token in the store."""
        from statekit.workflows.callbacks import handle_callback_activity

        assert self.client is not None
        history = self.sfn.get_execution_history(executionArn=self.client.execution_arn(run_id))
        for event in history["events"]:
            details = event.get("taskScheduledEventDetails") or {}
            key = f"{run_id}/{event['id']}"
            if "waitForTaskToken" in str(details.get("resource")) and key not in self.handled:
                self.handled.add(key)
                envelope = json.loads(details["parameters"])["Payload"]
                handle_callback_activity(envelope, self.store, deliver=self.client.send_event)
        time.sleep(0.2)

    def waiting_for_event(self, run_id: str) -> bool:
        return any(key.startswith(f"{run_id}/") for key in self.handled)

    def let_time_pass(self, run_id: str) -> None:
        pass  # real time: the definitions' waits and timeouts are a few seconds

    def compensations(self, run: Any) -> tuple[str, ...]:
        return tuple(run.compensated)
