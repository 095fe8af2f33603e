"""``workflows://PROJECT/LOCATION/WORKFLOW[?store=URL]``: Google Cloud Workflows.

The workflow is the YAML that ``render_cloud_workflows_yaml`` produced (the
GCP stack deploys it). Cloud Workflows names executions itself, so the run id
is kept in the statekit store: ``start`` first claims ``wfgcp-<id>/execution``
with ``if_absent`` and records the execution's name in it, so a second
``start`` with the same id finds the same execution instead of starting
another. How a run ended comes from the ``raise`` at the end of the YAML.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from statekit.errors import Conflict, InvalidURL
from statekit.store import Store, open_store
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
    wait_for_result,
)

_ENDINGS = {"compensated": COMPENSATED, "failed": FAILED, "compensation_failed": FAILED}
CLAIM_WAIT_SECONDS = 30.0


def failure_error(failure: Mapping[str, Any] | None) -> dict[str, Any]:
    """The portable error from the YAML's ``statekit_failure``: a Fail step's own error,
    or the caught Cloud Workflows error (an HTTP error carries the activity's JSON body)."""
    failure = failure or {}
    if "error" in failure:
        return {
            "step": failure.get("step"),
            "error": failure["error"],
            "message": failure.get("message", ""),
        }
    detail = failure.get("detail") or {}
    body = detail.get("body") if isinstance(detail, Mapping) else None
    if isinstance(body, Mapping) and "error" in body:
        return {
            "step": failure.get("step"),
            "error": body["error"],
            "message": body.get("message", ""),
        }
    tags = detail.get("tags") if isinstance(detail, Mapping) else None
    name = tags[0] if isinstance(tags, list) and tags else "Error"
    message = detail.get("message", "") if isinstance(detail, Mapping) else str(detail)
    return {"step": failure.get("step"), "error": name, "message": message}


def run_from_execution(
    run_id: str, workflow: str, state: str, result: str | None, error_payload: str | None
) -> WorkflowRun:
    """A WorkflowRun from an execution's state (ACTIVE, SUCCEEDED, FAILED, CANCELLED...),
    its ``result`` JSON and its ``error.payload``."""
    if state in ("ACTIVE", "QUEUED"):
        return WorkflowRun(run_id, workflow, RUNNING)
    if state == "SUCCEEDED":
        return WorkflowRun(run_id, workflow, SUCCEEDED, output=json.loads(result or "null"))
    try:
        raised = json.loads(error_payload or "")
    except ValueError:
        raised = None
    if not isinstance(raised, Mapping) or raised.get("statekit") not in _ENDINGS:
        message = error_payload or state
        return WorkflowRun(
            run_id, workflow, FAILED, error={"step": None, "error": state, "message": message}
        )
    error = failure_error(raised.get("failure"))
    if raised["statekit"] == "compensation_failed":
        error["compensation"] = failure_error(raised.get("compensation"))
    return WorkflowRun(run_id, workflow, _ENDINGS[raised["statekit"]], error=error)


def input_digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


class CloudWorkflows:
    def __init__(
        self, project: str, location: str, workflow: str, client: Any, store: Store
    ) -> None:
        self.client = client
        self.store = store
        self.workflow = workflow
        self.parent = f"projects/{project}/locations/{location}/workflows/{workflow}"

    @classmethod
    def from_url(cls, url: ConnectionURL) -> CloudWorkflows:
        url.require_known_params({"store"})
        parts = url.path_parts()
        if not url.host or len(parts) != 2:
            raise url.error("expected workflows://PROJECT/LOCATION/WORKFLOW")
        try:
            store = open_store(url.param("store")) if url.param("store") else open_store()
        except InvalidURL as exc:
            raise url.error(f"its store URL is invalid: {exc}") from None
        from google.cloud.workflows import executions_v1

        return cls(url.host, parts[0], parts[1], executions_v1.ExecutionsClient(), store)

    def _claim_key(self, run_id: str) -> str:
        return f"wfgcp-{check_run_id(run_id)}/execution"

    def start(self, workflow: Workflow | str, input: Any, id: str) -> WorkflowRun:
        key = self._claim_key(id)
        digest = input_digest(input)
        try:
            claim = self.store.put(
                key, {"parent": self.parent, "input": digest, "execution": None}, if_absent=True
            )
        except Conflict:
            return self._join(id, digest)
        from google.cloud.workflows import executions_v1

        try:
            execution = self.client.create_execution(
                parent=self.parent, execution=executions_v1.Execution(argument=json.dumps(input))
            )
        except Exception:
            # Nothing started: free the id so that a retry of start() can claim it.
            self.store.delete(key, if_match=claim.etag)
            raise
        self.store.put(key, {**claim.value, "execution": execution.name}, if_match=claim.etag)
        return self.status(id)

    def _join(self, run_id: str, digest: str) -> WorkflowRun:
        deadline = time.monotonic() + CLAIM_WAIT_SECONDS
        while True:
            item = self.store.get(self._claim_key(run_id))
            if item is None:
                raise WorkflowNotFound(run_id)
            if item.value["parent"] != self.parent or item.value["input"] != digest:
                raise WorkflowIdInUse(run_id, "it was started for another workflow or input")
            if item.value["execution"]:
                return self.status(run_id)
            if time.monotonic() >= deadline:  # the first starter died before creating it
                raise WorkflowIdInUse(run_id, "claimed, but no execution was created; retry later")
            time.sleep(0.2)

    def _execution_name(self, run_id: str) -> str:
        item = self.store.get(self._claim_key(run_id))
        if item is None or not item.value.get("execution"):
            raise WorkflowNotFound(run_id)
        return str(item.value["execution"])

    def status(self, id: str) -> WorkflowRun:
        execution = self.client.get_execution(name=self._execution_name(id))
        error = execution.error.payload if execution.error else None
        return run_from_execution(id, self.workflow, execution.state.name, execution.result, error)

    def result(self, id: str, wait: float = 0.0) -> Any:
        return wait_for_result(self.status, id, wait, first_delay=0.2)
