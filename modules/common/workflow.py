"""The one workflow definition the orchestrator constructs deploy, from a single source.

The project's renderer (``statekit.workflows.render_asl`` and
``render_cloud_workflows_yaml``) and the example saga ``handlers.saga.ORDER_SAGA``
are the source: every task invokes the one activity function, which dispatches on
the activity name. Until then ``FALLBACK_ASL`` below is that single source: a two-step
saga (reserve, then charge; on failure release the reservation) whose task
states call the activity function. ``ACTIVITY_RESOURCE`` is the placeholder the
cloud constructs replace with the activity function's ARN or URL.
"""

from __future__ import annotations

import copy
import importlib
import json
from typing import Any

ACTIVITY_RESOURCE = "${ActivityFunction}"

_RETRY = [
    {
        "ErrorEquals": ["States.TaskFailed", "States.Timeout"],
        "IntervalSeconds": 2,
        "MaxAttempts": 3,
        "BackoffRate": 2.0,
    }
]

FALLBACK_ASL: dict[str, Any] = {
    "Comment": "statekit order saga (fallback definition until statekit.workflows lands)",
    "StartAt": "reserve",
    "TimeoutSeconds": 300,
    "States": {
        "reserve": {
            "Type": "Task",
            "Resource": ACTIVITY_RESOURCE,
            "Parameters": {"step": "reserve", "input.$": "$"},
            "ResultPath": "$.reserve",
            "TimeoutSeconds": 30,
            "Retry": _RETRY,
            "Next": "charge",
        },
        "charge": {
            "Type": "Task",
            "Resource": ACTIVITY_RESOURCE,
            "Parameters": {"step": "charge", "input.$": "$"},
            "ResultPath": "$.charge",
            "TimeoutSeconds": 30,
            "Retry": _RETRY,
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "release"}],
            "End": True,
        },
        "release": {
            "Type": "Task",
            "Resource": ACTIVITY_RESOURCE,
            "Parameters": {"step": "release", "input.$": "$"},
            "ResultPath": "$.release",
            "TimeoutSeconds": 30,
            "Retry": _RETRY,
            "Next": "failed",
        },
        "failed": {
            "Type": "Fail",
            "Error": "SagaFailed",
            "Cause": "charge failed; reservation released",
        },
    },
}


def _saga() -> tuple[Any, Any] | None:
    """``(statekit.workflows module, ORDER_SAGA)``, or None while they do not exist."""
    try:
        workflows = importlib.import_module("statekit.workflows")
        saga = importlib.import_module("handlers.saga")
    except ImportError:
        return None
    definition = getattr(saga, "ORDER_SAGA", None)
    if definition is None or not hasattr(workflows, "render_asl"):
        return None
    return workflows, definition


def workflow_name() -> str:
    """The workflow's name (``place_order``; the fallback's ``order-saga``), for resource names."""
    found = _saga()
    return str(found[1].name) if found else "order-saga"


def step_functions_definition(activity_arn: str) -> str:
    """The ASL JSON string with every task invoking ``activity_arn`` (the one activity function)."""
    found = _saga()
    if found is not None:
        workflows, definition = found
        asl = workflows.render_asl(definition, lambda _activity: activity_arn)
        return json.dumps(asl, sort_keys=True)
    text = json.dumps(copy.deepcopy(FALLBACK_ASL), sort_keys=True)
    return text.replace(ACTIVITY_RESOURCE, activity_arn)


def cloud_workflows_yaml(activity_url: str) -> str | None:
    """Cloud Workflows YAML from the same definition (None until the renderer exists)."""
    found = _saga()
    if found is None or not hasattr(found[0], "render_cloud_workflows_yaml"):
        return None
    workflows, definition = found
    return str(workflows.render_cloud_workflows_yaml(definition, lambda _activity: activity_url))


def uses_fallback() -> bool:
    return _saga() is None
