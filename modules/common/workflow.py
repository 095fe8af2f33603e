"""The one workflow definition the orchestrator constructs deploy, from a single source.

When the project's renderer exists (``statekit.workflows.render_asl`` and the
example saga ``handlers.saga.ORDER_SAGA``) the Step Functions definition comes
from it. Until then ``FALLBACK_ASL`` below is that single source: a two-step
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


def _rendered_asl() -> dict[str, Any] | None:
    """The project's renderer's output, or None while it does not exist yet."""
    try:
        workflows = importlib.import_module("statekit.workflows")
        saga = importlib.import_module("handlers.saga")
    except ImportError:
        return None
    render = getattr(workflows, "render_asl", None)
    definition = getattr(saga, "ORDER_SAGA", None)
    if render is None or definition is None:
        return None
    rendered = render(definition)
    return dict(rendered) if isinstance(rendered, dict) else None


def workflow_name() -> str:
    """The workflow's name, as the renderer names it, for resource naming."""
    return "order-saga"


def step_functions_definition(activity_arn: str) -> str:
    """The ASL JSON string with every task pointed at ``activity_arn``."""
    asl = _rendered_asl() or copy.deepcopy(FALLBACK_ASL)
    text = json.dumps(asl, sort_keys=True)
    return text.replace(ACTIVITY_RESOURCE, activity_arn)


def uses_fallback() -> bool:
    return _rendered_asl() is None
