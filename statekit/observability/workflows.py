"""The workflow client, instrumented: a span per client call and runs started counted.

Runs ended by status are counted where a run ends: by the engine's own metrics on
the clouds (Step Functions ExecutionsSucceeded/Failed, Durable and Cloud Workflows
execution metrics, which the stack's dashboards read) and by the local executor.
"""

from __future__ import annotations

from typing import Any

from statekit.observability import semconv
from statekit.observability.base import InstrumentedBackend
from statekit.observability.spans import measure
from statekit.observability.telemetry import active

TRACED = frozenset({"start", "status", "result", "send_event", "cancel", "list", "history"})


class InstrumentedWorkflows(InstrumentedBackend):
    block = "workflows"

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in TRACED or not callable(attribute):
            return attribute
        telemetry = self.telemetry
        assert telemetry is not None  # a client is wrapped only for telemetry

        def traced(*args: Any, **kwargs: Any) -> Any:
            attributes = {"statekit.workflow.engine": self.backend_name, "statekit.operation": name}
            result = measure(
                telemetry,
                f"workflow {name}",
                attributes,
                self.metric(name),
                lambda: attribute(*args, **kwargs),
            )
            if name == "start":
                workflow = args[0] if args else kwargs.get("workflow")
                workflow_name = getattr(workflow, "name", workflow)
                telemetry.workflow_runs.add(
                    1,
                    {
                        **self.metric_attributes,
                        "statekit.workflow.name": str(workflow_name),
                        "statekit.workflow.event": "started",
                    },
                )
            return result

        return traced


def count_run_ended(engine: str, workflow_name: str, status: str) -> None:
    """A run this process drove ended (the local executor): ``statekit.workflow.runs``."""
    telemetry = active()
    if telemetry is not None:
        telemetry.workflow_runs.add(
            1,
            {
                semconv.BLOCK: "workflows",
                semconv.BACKEND: engine,
                "statekit.workflow.name": workflow_name,
                "statekit.workflow.event": "ended",
                "statekit.workflow.status": status,
            },
        )
