"""Workflows: one definition in Python, run by Step Functions, Durable Functions,
Cloud Workflows or the local executor.

``definition`` holds the language and the client protocol, ``validation`` the
checks made when a workflow is built, ``engines/`` one folder per engine with its
client beside its renderer or orchestrator.
"""

from typing import Any

from statekit.lazy import lazy_attribute
from statekit.workflows.definition import (
    COMPENSATED,
    DEFAULT_WORKFLOW_URL,
    FAILED,
    FINAL_STATUSES,
    NO_RETRY,
    RESERVED_STATE_PREFIX,
    RUNNING,
    SUCCEEDED,
    WORKFLOW_URL_VARIABLE,
    ActivityTarget,
    AnyStep,
    Compensation,
    Fail,
    Retry,
    Step,
    When,
    Workflow,
    WorkflowClient,
    WorkflowDefinitionError,
    WorkflowFailed,
    WorkflowIdInUse,
    WorkflowIdInvalid,
    WorkflowNotFound,
    WorkflowRun,
    WorkflowTimeout,
    activity_envelope,
    check_name,
    check_path,
    check_run_id,
    choose_next,
    is_path,
    map_input,
    matches,
    named_error,
    open_workflows,
    read_path,
    result_of,
    target_for,
    wait_for_result,
    workflow_name,
)

__all__ = [
    "COMPENSATED",
    "DEFAULT_WORKFLOW_URL",
    "FAILED",
    "FINAL_STATUSES",
    "NO_RETRY",
    "RESERVED_STATE_PREFIX",
    "RUNNING",
    "SUCCEEDED",
    "WORKFLOW_URL_VARIABLE",
    "ActivityTarget",
    "AnyStep",
    "Compensation",
    "Fail",
    "Retry",
    "Step",
    "When",
    "Workflow",
    "WorkflowClient",
    "WorkflowDefinitionError",
    "WorkflowFailed",
    "WorkflowIdInUse",
    "WorkflowIdInvalid",
    "WorkflowNotFound",
    "WorkflowRun",
    "WorkflowTimeout",
    "activity_envelope",
    "check_name",
    "check_path",
    "check_run_id",
    "choose_next",
    "is_path",
    "map_input",
    "matches",
    "named_error",
    "open_workflows",
    "read_path",
    "render_asl",
    "render_cloud_workflows_yaml",
    "result_of",
    "target_for",
    "wait_for_result",
    "workflow_name",
]

# The renderers live with their engines; the docs also name them from here. Imported on
# first use: a function that starts or runs a workflow never pays for a renderer.
_RENDERERS = {
    "render_asl": "statekit.workflows.engines.stepfunctions.asl",
    "render_cloud_workflows_yaml": "statekit.workflows.engines.cloud_workflows.render",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _RENDERERS, name)
