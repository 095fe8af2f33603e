"""The workflow clients: URLs, idempotent start on Step Functions, how each engine's
final state is read back."""

from __future__ import annotations

import json
from typing import Any

import pytest

import statekit
from handlers.saga import ORDER_SAGA
from statekit.errors import InvalidURL
from statekit.workflows import WorkflowIdInUse, open_workflows
from statekit.workflows.engines.cloud_workflows.client import run_from_execution
from statekit.workflows.engines.durable.client import DurableWorkflows, run_from_orchestration
from statekit.workflows.engines.durable.orchestrator import WorkflowEnded
from statekit.workflows.engines.local.client import LocalWorkflows
from statekit.workflows.engines.stepfunctions.client import StepFunctionsWorkflows, lambda_error
from tests.conformance.workflows.saga_script import scenarios


def test_default_is_the_local_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATEKIT_WORKFLOW_URL", raising=False)
    client = statekit.open_workflows()
    assert isinstance(client, LocalWorkflows)
    monkeypatch.setenv("STATEKIT_WORKFLOW_URL", "local://?store=memory%3A%2F%2Fwf&lease_seconds=5")
    configured = open_workflows()
    assert isinstance(configured, LocalWorkflows)
    assert configured.lease_seconds == 5.0


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("local://?lease=1", "unknown query parameter 'lease'"),
        ("local://?lease_seconds=-1", "lease_seconds must be > 0"),
        ("local://?store=nope%3A%2F%2F", "its store URL is invalid"),
        ("stepfunctions://us-east-1/123456789012", "STATE_MACHINE_NAME"),
        ("durable://app.azurewebsites.net", "ORCHESTRATOR"),
        ("durable://app.azurewebsites.net/place_order?key_env=STATEKIT_TEST_UNSET", "not set"),
        ("workflows://project/europe-west1", "WORKFLOW"),
        ("kafka://x", "unknown scheme"),
    ],
)
def test_bad_urls_are_refused(url: str, fragment: str) -> None:
    with pytest.raises(InvalidURL, match=fragment):
        open_workflows(url)


def test_url_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    sfn = open_workflows("stepfunctions://eu-west-1/123456789012/place-order-dev")
    assert isinstance(sfn, StepFunctionsWorkflows)
    assert sfn.state_machine_arn == (
        "arn:aws:states:eu-west-1:123456789012:stateMachine:place-order-dev"
    )
    assert sfn.execution_arn("o-1").endswith(":execution:place-order-dev:o-1")
    monkeypatch.setenv("DURABLE_KEY", "k")
    durable = open_workflows("durable://orders.azurewebsites.net/place_order?key_env=DURABLE_KEY")
    assert isinstance(durable, DurableWorkflows)
    assert durable.base_url == "https://orders.azurewebsites.net"
    assert durable.key == "k"
    local_func = open_workflows("durable://localhost:7071/place_order")
    assert isinstance(local_func, DurableWorkflows)
    assert local_func.base_url == "http://localhost:7071"


def test_stepfunctions_start_is_idempotent_by_execution_name(stepfunctions_engine: Any) -> None:
    scenario = scenarios("sfn-idempotent")["happy"]
    outcome = stepfunctions_engine.run(scenario)
    assert outcome.status == "succeeded"
    client = stepfunctions_engine.client
    run_id = scenario.order["order_id"]
    again = client.start(ORDER_SAGA, scenario.order, run_id)
    assert again.status == "succeeded"
    assert again.output == scenario.output
    with pytest.raises(WorkflowIdInUse, match="different input"):
        client.start(ORDER_SAGA, {**scenario.order, "amount": 1}, run_id)


def test_lambda_error_cause_is_unwrapped() -> None:
    cause = json.dumps({"errorType": "CreateShipmentFailed", "errorMessage": "no carrier"})
    assert lambda_error("CreateShipmentFailed", cause) == ("CreateShipmentFailed", "no carrier")
    assert lambda_error("States.Timeout", "took too long") == ("States.Timeout", "took too long")
    # What the Lambda runtime reports for an activity's ActivityFailed exception.
    wrapped = json.dumps(
        {"errorType": "ActivityFailed", "errorMessage": "CreateShipmentFailed: no carrier"}
    )
    assert lambda_error("ActivityFailed", wrapped) == ("CreateShipmentFailed", "no carrier")


def test_durable_output_is_read_back() -> None:
    ended = WorkflowEnded(
        "compensated",
        {
            "failure": {"step": "create_shipment", "error": "X", "message": "m"},
            "compensated": ["refund_payment", "release_stock"],
        },
    )
    output = f"Orchestrator function 'place_order' failed: {ended}"
    run = run_from_orchestration("o-1", "place_order", "Failed", output)
    assert run.status == "compensated"
    assert run.error == {"step": "create_shipment", "error": "X", "message": "m"}
    assert run.compensated == ("refund_payment", "release_stock")
    assert run_from_orchestration("o-1", "place_order", "Running", None).status == "running"
    terminated = run_from_orchestration("o-1", "place_order", "Terminated", "by operator")
    assert terminated.status == "failed"
    assert terminated.error is not None
    assert terminated.error["error"] == "Terminated"


def test_cloud_workflows_execution_is_read_back() -> None:
    payload = json.dumps(
        {
            "statekit": "compensated",
            "failure": {
                "step": "create_shipment",
                "detail": {
                    "code": 500,
                    "tags": ["HttpError"],
                    "message": "HTTP server responded with error code 500",
                    "body": {"error": "CreateShipmentFailed", "message": "no carrier"},
                },
            },
        }
    )
    run = run_from_execution("o-1", "place_order", "FAILED", None, payload)
    assert run.status == "compensated"
    assert run.error == {
        "step": "create_shipment",
        "error": "CreateShipmentFailed",
        "message": "no carrier",
    }
    timed_out = json.dumps(
        {
            "statekit": "failed",
            "failure": {
                "step": "reserve_stock",
                "detail": {"tags": ["TimeoutError"], "message": "timed out"},
            },
        }
    )
    failed = run_from_execution("o-2", "place_order", "FAILED", None, timed_out)
    assert failed.status == "failed"
    assert failed.error == {
        "step": "reserve_stock",
        "error": "TimeoutError",
        "message": "timed out",
    }
    done = run_from_execution("o-3", "place_order", "SUCCEEDED", '{"ok": true}', None)
    assert done.output == {"ok": True}
    assert run_from_execution("o-4", "place_order", "ACTIVE", None, None).status == "running"
