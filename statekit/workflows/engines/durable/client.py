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

import builtins
import json
import os
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote, urlencode

from statekit.errors import BackendUnavailable
from statekit.urls import ConnectionURL
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
    run_id: str, workflow: str, runtime_status: str, output: Any, custom_status: Any = None
) -> WorkflowRun:
    """A WorkflowRun from an instance's ``runtimeStatus``, ``output`` and ``customStatus``."""
    if runtime_status in RUNNING_STATES:
        step = custom_status.get("step") if isinstance(custom_status, dict) else None
        return WorkflowRun(run_id, workflow, RUNNING, step=step)
    if runtime_status == "Terminated":
        return WorkflowRun(run_id, workflow, CANCELLED)
    if runtime_status == "Completed":
        if ending_of(output) == COMPENSATED:
            return WorkflowRun(
                run_id,
                workflow,
                COMPENSATED,
                error=dict(output.get("failure") or {}),
                compensated=tuple(output.get("compensated") or ()),
            )
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

    def start(
        self, workflow: Workflow | str, input: Any, id: str, on_conflict: str = "use_existing"
    ) -> WorkflowRun:
        check_on_conflict(on_conflict)
        existing = self._instance(id)
        if existing is not None and on_conflict == "fail":
            raise WorkflowIdInUse(id, "a run with this id exists")
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
            instance.get("customStatus"),
        )

    def result(self, id: str, wait: float = 0.0) -> Any:
        return wait_for_result(self.status, id, wait, first_delay=0.2)

    def send_event(self, run_id: str, event: str, payload: Any = None) -> None:
        """The raise-event API; Durable Functions keeps an event raised before the
        orchestrator waits for it."""
        path = f"/instances/{quote(check_run_id(run_id))}/raiseEvent/{quote(event)}"
        status, body = self._request("POST", path, payload)
        if status == 404:
            raise WorkflowNotFound(run_id)
        if status >= 400 and status != 410:  # 410: the instance has ended
            raise BackendUnavailable(
                "durable", f"raise {event!r} to {run_id!r}: HTTP {status}: {body}"
            )

    def cancel(self, run_id: str) -> WorkflowRun:
        path = f"/instances/{quote(check_run_id(run_id))}/terminate"
        status, body = self._request("POST", path + "?reason=cancelled", None)
        if status == 404:
            raise WorkflowNotFound(run_id)
        if status >= 400 and status != 410:
            raise BackendUnavailable("durable", f"terminate {run_id!r}: HTTP {status}: {body}")
        return self.status(run_id)

    def list(
        self,
        workflow: str | None = None,
        status: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> RunPage:
        """Instances of the task hub (``GET /instances``), filtered by ``runtimeStatus``."""
        query = f"?top={int(limit)}"
        wanted = {RUNNING: "Running,Pending", CANCELLED: "Terminated", FAILED: "Failed"}
        if status in wanted:
            query += f"&runtimeStatus={wanted[status]}"
        elif status in (SUCCEEDED, COMPENSATED):
            query += "&runtimeStatus=Completed"
        # The continuation token travels in a header on the real API; the query form is
        # accepted too by the Durable extension's HTTP API.
        if cursor:
            query += f"&continuationToken={quote(cursor)}"
        code, body = self._request("GET", "/instances" + query)
        if code >= 400 or not isinstance(body, list):
            raise BackendUnavailable("durable", f"list instances: HTTP {code}: {body}")
        runs = []
        for instance in body:
            name = instance.get("name") or self.orchestrator
            if workflow not in (None, name):
                continue
            run = run_from_orchestration(
                instance["instanceId"],
                name,
                instance["runtimeStatus"],
                instance.get("output"),
                instance.get("customStatus"),
            )
            if status in (None, run.status):
                runs.append(run)
        return RunPage(runs, None)

    def history(self, run_id: str) -> builtins.list[StepRecord]:
        """Activity attempts, timers and events from the instance's history."""
        path = f"/instances/{quote(check_run_id(run_id))}?showHistory=true&showInput=false"
        status, body = self._request("GET", path)
        if status == 404:
            raise WorkflowNotFound(run_id)
        if status >= 400 or not isinstance(body, dict):
            raise BackendUnavailable("durable", f"history of {run_id!r}: HTTP {status}: {body}")
        return history_from_events(body.get("historyEvents") or [])


def history_from_events(events: builtins.list[dict[str, Any]]) -> builtins.list[StepRecord]:
    """``historyEvents`` (TaskCompleted/TaskFailed with ScheduledTime, TimerFired,
    EventRaised) as StepRecords."""
    from datetime import datetime

    def seconds(text: Any) -> float | None:
        if not isinstance(text, str):
            return None
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

    attempts: dict[str, int] = {}
    entries: builtins.list[StepRecord] = []
    for event in events:
        kind = event.get("EventType")
        if kind in ("TaskCompleted", "TaskFailed"):
            name = str(event.get("FunctionName") or "activity")
            attempts[name] = attempts.get(name, 0) + 1
            entries.append(
                StepRecord(
                    step=name,
                    kind="step",
                    attempt=attempts[name],
                    started=seconds(event.get("ScheduledTime")),
                    ended=seconds(event.get("Timestamp")),
                    outcome="succeeded" if kind == "TaskCompleted" else "failed",
                )
            )
        elif kind in ("TimerFired", "EventRaised"):
            at = seconds(event.get("Timestamp"))
            entries.append(
                StepRecord(
                    step=str(event.get("Name") or "timer"),
                    kind="event" if kind == "EventRaised" else "wait",
                    attempt=1,
                    started=None,
                    ended=at,
                    outcome="received" if kind == "EventRaised" else "succeeded",
                )
            )
    return entries
