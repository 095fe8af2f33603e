"""``durable://FUNCTION_APP_HOST/ORCHESTRATOR[?key_env=VAR]``: Azure Durable Functions.

Talks to the Durable Functions HTTP management API of the function app that
hosts the orchestrator from ``orchestrator_function``. The run id is the
instance id: ``start`` reads the instance first and only starts it when it does
not exist (same input: the same run; another input: ``WorkflowIdInUse``). The
system key comes from the environment variable named by ``key_env`` (the
platform fills it from Key Vault), never from the URL. ``localhost`` and
``127.0.0.1`` hosts are reached over plain HTTP (``func start``), others over HTTPS.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

from statekit.errors import BackendUnavailable
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
from statekit.workflows.engines.durable.orchestrator import ENDINGS

_BY_MARKER = {marker: ending for ending, marker in ENDINGS.items()}
_STATUS = {COMPENSATED: COMPENSATED, "failed": FAILED, "compensation_failed": FAILED}
RUNNING_STATES = {"Pending", "Running", "ContinuedAsNew", "Suspended"}
WEBHOOK = "/runtime/webhooks/durabletask"


def parse_ending(text: str) -> tuple[str, dict[str, Any]] | None:
    """Find ``statekit.<Ending>: {json}`` in a failed instance's output."""
    for marker, ending in _BY_MARKER.items():
        start = text.find(marker + ": ")
        if start >= 0:
            try:
                failure, _ = json.JSONDecoder().raw_decode(text, start + len(marker) + 2)
            except ValueError:
                return None
            return ending, failure
    return None


def run_from_orchestration(
    run_id: str, workflow: str, runtime_status: str, output: Any
) -> WorkflowRun:
    """A WorkflowRun from an instance's ``runtimeStatus`` and ``output``."""
    if runtime_status in RUNNING_STATES:
        return WorkflowRun(run_id, workflow, RUNNING)
    if runtime_status == "Completed":
        return WorkflowRun(run_id, workflow, SUCCEEDED, output=output)
    found = parse_ending(output if isinstance(output, str) else json.dumps(output))
    if found is None:  # terminated, or an error outside the definition
        return WorkflowRun(
            run_id,
            workflow,
            FAILED,
            error={"step": None, "error": runtime_status, "message": str(output or "")},
        )
    ending, failure = found
    error = dict(failure.get("failure") or {})
    if "compensation" in failure:
        error["compensation"] = failure["compensation"]
    return WorkflowRun(
        run_id,
        workflow,
        _STATUS[ending],
        error=error,
        compensated=tuple(failure.get("compensated") or ()),
    )


class DurableWorkflows:
    def __init__(self, base_url: str, orchestrator: str, key: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.orchestrator = orchestrator
        self.key = key

    @classmethod
    def from_url(cls, url: ConnectionURL) -> DurableWorkflows:
        url.require_known_params({"key_env"})
        parts = url.path_parts()
        if not url.host or len(parts) != 1:
            raise url.error("expected durable://FUNCTION_APP_HOST/ORCHESTRATOR")
        key_env = url.param("key_env")
        key = None
        if key_env:
            key = os.environ.get(key_env)
            if not key:
                raise url.error(f"key_env names {key_env!r}, which is not set")
        scheme = "http" if url.host in ("localhost", "127.0.0.1") else "https"
        netloc = f"{url.host}:{url.port}" if url.port else url.host
        return cls(f"{scheme}://{netloc}", parts[0], key)

    def _request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        query = {"code": self.key} if self.key else {}
        url = self.base_url + WEBHOOK + path + (f"?{urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read().decode() or "null"
                return response.status, json.loads(text)
        except urllib.error.HTTPError as exc:
            text = exc.read().decode(errors="replace")
            try:
                return exc.code, json.loads(text or "null")
            except ValueError:
                return exc.code, text
        except (urllib.error.URLError, TimeoutError) as exc:
            raise BackendUnavailable("durable", f"{method} {path}", exc) from exc

    def _instance(self, run_id: str) -> dict[str, Any] | None:
        status, body = self._request("GET", f"/instances/{quote(check_run_id(run_id))}")
        if status == 404:
            return None
        if status >= 400 or not isinstance(body, dict):
            raise BackendUnavailable("durable", f"status of {run_id!r}: HTTP {status}: {body}")
        return body

    def start(self, workflow: Workflow | str, input: Any, id: str) -> WorkflowRun:
        existing = self._instance(id)
        if existing is None:
            path = f"/orchestrators/{quote(self.orchestrator)}/{quote(check_run_id(id))}"
            status, body = self._request("POST", path, input)
            if status >= 400:
                raise BackendUnavailable("durable", f"start {id!r}: HTTP {status}: {body}")
        elif existing.get("input") != input:
            raise WorkflowIdInUse(id, "it was started with a different input")
        return self.status(id)

    def status(self, id: str) -> WorkflowRun:
        instance = self._instance(id)
        if instance is None:
            raise WorkflowNotFound(id)
        return run_from_orchestration(
            id,
            instance.get("name") or self.orchestrator,
            instance["runtimeStatus"],
            instance.get("output"),
        )

    def result(self, id: str, wait: float = 0.0) -> Any:
        return wait_for_result(self.status, id, wait, first_delay=0.2)
