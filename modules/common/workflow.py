"""The App's workflows, rendered for the orchestrators that deploy them.

Each workflow of the App (``statekit.workflows.Workflow``) is rendered by the
project's renderers (``render_asl``, ``render_cloud_workflows_yaml``) with every
task invoking the one activity function, which dispatches on the activity name.
There is no fallback: a workflow that does not render stops synthesis with a
``WorkflowRenderError`` naming it (a broken import of the App's workflow module
already failed in ``statekit.app.load_app``).
"""

from __future__ import annotations

import json
import re
from typing import Any

from statekit.workflows import render_asl, render_cloud_workflows_yaml

WORKFLOW_URL_VARIABLE = "STATEKIT_WORKFLOW_URL"


class WorkflowRenderError(RuntimeError):
    """A workflow of the App could not be rendered for a cloud's orchestrator."""


def resource_name(workflow: Any) -> str:
    """``group_approval`` -> ``group-approval``: the workflow's part of resource names."""
    return re.sub(r"[^a-z0-9-]+", "-", str(workflow.name).lower()).strip("-")


def url_variable(workflow: Any) -> str:
    """``STATEKIT_WORKFLOW_URL_GROUP_APPROVAL``: one variable per workflow of the App."""
    suffix = re.sub(r"[^A-Z0-9]+", "_", str(workflow.name).upper()).strip("_")
    return f"{WORKFLOW_URL_VARIABLE}_{suffix}"


def step_functions_definition(workflow: Any, activity_arn: str) -> str:
    """The ASL JSON string with every task invoking ``activity_arn`` (the activity function)."""
    try:
        asl = render_asl(workflow, activity_arn)
    except Exception as error:
        raise WorkflowRenderError(
            f"workflow {workflow.name!r}: cannot render Step Functions ASL: {error}"
        ) from error
    return json.dumps(asl, sort_keys=True)


def cloud_workflows_yaml(workflow: Any, activity_url: str) -> str:
    """Cloud Workflows YAML with every call going to ``activity_url`` (OIDC-authenticated)."""
    try:
        return str(render_cloud_workflows_yaml(workflow, activity_url))
    except Exception as error:
        raise WorkflowRenderError(
            f"workflow {workflow.name!r}: cannot render Cloud Workflows YAML: {error}"
        ) from error
