"""``workflows://PROJECT/LOCATION/WORKFLOW[?store=URL]``: Google Cloud Workflows.

The workflow is the YAML that ``render_cloud_workflows_yaml`` produced (the
GCP stack deploys it). Cloud Workflows names executions itself, so the run id
is kept in the statekit store: ``start`` first claims ``wfgcp/<id>`` with
``if_absent`` and records the execution's name in it, so a second ``start``
with the same id finds the same execution instead of starting another (and
``list`` pages through the claims). A compensated run is a succeeded execution
whose result says so; a failed one ends with the YAML's ``raise``.

``send_event`` POSTs the payload to the callback URL that the activity side
kept in the store for the execution and event (``callbacks.py``), signed with
the caller's Google credentials; an event for a run not waiting yet is kept and
posted by the activity side when the run creates its callback. ``history``
shows only the execution's current steps: the step-entries API is not in the
``executions_v1`` client.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from google.api_core import exceptions as gexc

from statekit.errors import BackendUnavailable, Conflict, InvalidURL
from statekit.store import Store, open_store
from statekit.urls import ConnectionURL
from statekit.workflows.callbacks import callback_key, keep_pending, take_pending
from statekit.workflows.definition import (
    CANCELLED,
    COMPENSATED,
    FAILED,
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
    wait_for_result,
)
from statekit.workflows.engines.reaching import reaching

_ENDINGS = {"compensated": COMPENSATED, "failed": FAILED, "compensation_failed": FAILED}
CLAIM_WAIT_SECONDS = 30.0
# What the executions API's errors mean "not reachable, try later" (refused or lost
# connections, deadlines, 5xx, quota), after the SDK's own retries.
UNAVAILABLE = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.RetryError,
    gexc.InternalServerError,
    gexc.TooManyRequests,
)
reaching_the_service = reaching("workflows", lambda exc: isinstance(exc, UNAVAILABLE))


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
    if state == "CANCELLED":
        return WorkflowRun(run_id, workflow, CANCELLED)
    if state == "SUCCEEDED":
        output = json.loads(result or "null")
        if ending_of(output) == COMPENSATED:
            return WorkflowRun(
                run_id,
                workflow,
                COMPENSATED,
                error=failure_error(output.get("failure")),
                compensated=tuple(output.get("compensated") or ()),
            )
        return WorkflowRun(run_id, workflow, SUCCEEDED, output=output)
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
        return f"{CLAIMS}{check_run_id(run_id)}"

    @reaching_the_service
    def start(
        self, workflow: Workflow | str, input: Any, id: str, on_conflict: str = "use_existing"
    ) -> WorkflowRun:
        check_on_conflict(on_conflict)
        key = self._claim_key(id)
        digest = input_digest(input)
        try:
            claim = self.store.put(
                key, {"parent": self.parent, "input": digest, "execution": None}, if_absent=True
            )
        except Conflict:
            if on_conflict == "fail":
                raise WorkflowIdInUse(id, "a run with this id exists") from None
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

    @reaching_the_service
    def status(self, id: str) -> WorkflowRun:
        execution = self.client.get_execution(name=self._execution_name(id))
        error = execution.error.payload if execution.error else None
        run = run_from_execution(id, self.workflow, execution.state.name, execution.result, error)
        if run.status == RUNNING:
            steps = list(getattr(getattr(execution, "status", None), "current_steps", []) or [])
            if steps:
                return WorkflowRun(id, self.workflow, RUNNING, step=steps[-1].step)
        return run

    def result(self, id: str, wait: float = 0.0) -> Any:
        return wait_for_result(self.status, id, wait, first_delay=0.2)

    @reaching_the_service
    def send_event(self, run_id: str, event: str, payload: Any = None) -> None:
        execution_id = self._execution_name(run_id).rsplit("/", 1)[-1]
        keep_pending(self.store, execution_id, event, payload)
        kept = self.store.get(callback_key(execution_id, event))
        if kept is None or "url" not in kept.value:
            return  # the run is not waiting yet: the activity side posts it when it is
        post_callback(str(kept.value["url"]), payload)
        self.store.delete(callback_key(execution_id, event))
        take_pending(self.store, execution_id, event)

    @reaching_the_service
    def cancel(self, run_id: str) -> WorkflowRun:
        self.client.cancel_execution(name=self._execution_name(run_id))
        return self.status(run_id)

    @reaching_the_service
    def list(
        self,
        workflow: str | None = None,
        status: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        """The runs started through statekit (their claims), oldest id first."""
        page = self.store.list(CLAIMS, limit=limit, cursor=cursor)
        runs = []
        for item in page.items:
            if item.value.get("parent") != self.parent or not item.value.get("execution"):
                continue
            run = self.status(item.key[len(CLAIMS) :])
            if workflow in (None, run.workflow) and status in (None, run.status):
                runs.append(run)
        return RunPage(runs, page.cursor)

    @reaching_the_service
    def history(self, run_id: str) -> builtins.list[StepRecord]:
        """The execution's current steps only (see the module's docstring)."""
        execution = self.client.get_execution(name=self._execution_name(run_id))
        steps = list(getattr(getattr(execution, "status", None), "current_steps", []) or [])
        return [
            StepRecord(
                step=s.step, kind="step", attempt=1, started=None, ended=None, outcome="running"
            )
            for s in steps
        ]


CLAIMS = "wfgcp/"


def post_callback(url: str, payload: Any) -> None:
    """POST ``payload`` to a Cloud Workflows callback URL with the caller's credentials
    (it needs ``workflows.callbacks.send``)."""
    import google.auth
    from google.auth.transport.requests import AuthorizedSession

    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    session = AuthorizedSession(credentials)  # type: ignore[no-untyped-call]
    response = session.post(url, json=payload, timeout=30)
    if response.status_code >= 400:
        raise BackendUnavailable(
            "workflows", f"callback {url}: HTTP {response.status_code}: {response.text[:200]}"
        )
