"""The renderers' output: ASL that asl-validator accepts, Cloud Workflows YAML, and
the Durable orchestrator's actions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.saga import ORDER_SAGA
from statekit.workflows import (
    Retry,
    Step,
    Workflow,
    WorkflowDefinitionError,
    render_asl,
)
from statekit.workflows.engines.cloud_workflows.render import (
    escape_for_terraform,
    render_cloud_workflows_yaml,
)
from statekit.workflows.engines.stepfunctions.asl import COMPENSATED_ERROR
from tests.conformance.workflows.conftest import asl_validator


def lambda_arn(activity: str) -> str:
    return f"arn:aws:lambda:eu-west-1:123456789012:function:orders-{activity}"


@pytest.fixture(scope="module")
def asl() -> dict[str, Any]:
    return render_asl(ORDER_SAGA, lambda_arn)


def test_asl_passes_asl_validator(asl: dict[str, Any], tmp_path: Path) -> None:
    validator = asl_validator()
    if validator is None:
        reason = "asl-validator not installed: npm install --no-save asl-validator@4.0.0"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    path = tmp_path / "place_order.asl.json"
    path.write_text(json.dumps(asl))
    checked = subprocess.run(
        [str(validator), "--json-path", str(path)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_asl_tasks_retries_and_compensation_chain(asl: dict[str, Any]) -> None:
    states = asl["States"]
    assert asl["StartAt"] == "reserve_stock"
    assert all(len(name) <= 80 for name in states)
    ship = states["create_shipment"]
    assert ship["Resource"] == lambda_arn("create_shipment")
    assert ship["Parameters"] == {"activity": "create_shipment", "input.$": "$"}
    assert ship["Retry"][0]["MaxAttempts"] == 1  # two attempts = one retry in ASL
    assert ship["TimeoutSeconds"] == 30
    assert ship["Catch"][0]["Next"] == "create_shipment__failed"
    assert states["reserve_stock"]["Parameters"]["input"] == {
        "order_id.$": "$.order_id",
        "items.$": "$.items",
    }
    assert states["charge_payment"]["Next"] == "charge_payment__choice"
    # After the shipment fails: refund, then release, then the Compensated ending.
    assert states["create_shipment__failed"]["Next"] == "charge_payment__undo"
    assert states["charge_payment__undo"]["Resource"] == lambda_arn("refund_payment")
    assert states["charge_payment__undo"]["ResultPath"] is None
    assert states["charge_payment__undo"]["Next"] == "reserve_stock__undo"
    assert states["reserve_stock__undo"]["Next"] == "statekit__compensated"
    assert states["statekit__compensated"]["Error"] == COMPENSATED_ERROR
    # The first step has nothing to undo.
    assert states["reserve_stock__failed"]["Next"] == "statekit__failed"


def test_cloud_workflows_yaml() -> None:
    source = render_cloud_workflows_yaml(ORDER_SAGA, lambda a: f"https://fn.example/{a}")
    parsed = yaml.safe_load(source)
    steps = {name: body for step in parsed["main"]["steps"] for name, body in step.items()}
    ship = steps["create_shipment"]
    assert ship["try"]["args"]["auth"] == {"type": "OIDC"}
    assert ship["try"]["args"]["body"] == {"activity": "create_shipment", "input": "${state}"}
    assert ship["retry"]["max_retries"] == 1
    assert ship["except"]["steps"][0]["create_shipment__caught"]["next"] == "charge_payment__undo"
    assert steps["charge_payment__choose"]["switch"][0]["condition"] == (
        '${state["payment"]["status"] == "declined"}'
    )
    assert steps["charge_payment__undo_then"]["next"] == "reserve_stock__undo"
    assert "statekit__retry_any" in parsed


def test_one_target_for_every_activity_and_terraform_escaping() -> None:
    asl = render_asl(ORDER_SAGA, "arn:aws:lambda:eu-west-1:123456789012:function:activities")
    resources = {s["Resource"] for s in asl["States"].values() if s["Type"] == "Task"}
    assert resources == {"arn:aws:lambda:eu-west-1:123456789012:function:activities"}
    source = render_cloud_workflows_yaml(ORDER_SAGA, "https://fn.example/")
    escaped = escape_for_terraform(source)
    assert "${" not in escaped.replace("$${", "")
    assert escaped.replace("$${", "${") == source


def test_cloud_workflows_refuses_timeouts_over_its_limit() -> None:
    long_step = Workflow(
        "long", [Step("wait", activity="x", timeout=3600, retry=Retry(1))], activities={"x"}
    )
    with pytest.raises(WorkflowDefinitionError, match="1800"):
        render_cloud_workflows_yaml(long_step, lambda _a: "https://fn.example/")


def test_durable_orchestrator_actions_for_a_failing_third_step(durable_engine: Any) -> None:
    from tests.conformance.workflows.saga_script import scenarios

    scenario = scenarios("durable-actions")["third_step_fails"]
    outcome = durable_engine.run(scenario)
    shapes = [
        ("activity", json.loads(a["input"])["activity"])
        if a["actionType"] == 0
        else ("timer", "cancelled" if a.get("isCanceled") else "fires")
        for a in durable_engine.last_actions
    ]
    assert shapes == [
        ("activity", "reserve_stock"),
        ("timer", "cancelled"),  # each attempt races its timeout
        ("activity", "charge_payment"),
        ("timer", "cancelled"),
        ("activity", "create_shipment"),
        ("timer", "cancelled"),
        ("timer", "fires"),  # the 1 s backoff before the second attempt
        ("activity", "create_shipment"),
        ("timer", "cancelled"),
        ("activity", "refund_payment"),
        ("activity", "release_stock"),
    ]
    assert outcome.status == "compensated"
    assert outcome.error == {
        "step": "create_shipment",
        "error": "CreateShipmentFailed",
        "message": "create_shipment failed for order 'durable-actions-fail' (fail_at)",
    }
