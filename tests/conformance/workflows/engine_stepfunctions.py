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
from statekit.workflows import WorkflowFailed, render_asl
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
