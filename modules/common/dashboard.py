"""The state dashboard and its alerts, once for every cloud: what each panel shows, from which metric.

Each cloud's ``dashboard.py`` renders these panels in its own service (CloudWatch
dashboard, Application Insights workbook, Cloud Monitoring dashboard). The
statekit metrics named here are the instruments the functions emit
(``statekit.observability.telemetry.METRICS``); ``check_emitted`` fails synthesis
when a panel names one that no function emits.
"""

from __future__ import annotations

from dataclasses import dataclass

from statekit.observability.telemetry import (
    CACHE_REQUESTS,
    METRICS,
    OPERATION_DURATION,
    QUEUE_MESSAGES,
    WORKFLOW_RUNS,
)

ERROR_OUTCOMES = ("unavailable", "invalid", "error")
ALL_OUTCOMES = ("ok", "conflict", *ERROR_OUTCOMES)
OUTCOME = "statekit.outcome"
BACKEND = "statekit.backend"
OPERATION = "statekit.operation"
BLOCK = "statekit.block"
CACHE_HIT = "statekit.cache.hit"
QUEUE_EVENT = "statekit.queue.event"
WORKFLOW_EVENT = "statekit.workflow.event"


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    statekit_metrics: tuple[str, ...]  # what the functions emit that the panel reads
    native: str | None = None  # the cloud's own metrics it also reads: functions, queues, workflows


PANELS = (
    Panel("invocations", "Function invocations and errors", (), "functions"),
    Panel(
        "state_errors",
        "State operation errors (%) by backend and operation",
        (OPERATION_DURATION,),
    ),
    Panel("conflicts", "Conflict rate (%)", (OPERATION_DURATION,)),
    Panel("cache_hits", "Cache hit ratio (%)", (CACHE_REQUESTS,)),
    Panel("queues", "Queue depth, messages and dead letters", (QUEUE_MESSAGES,), "queues"),
    Panel("workflows", "Workflow runs by status", (WORKFLOW_RUNS,), "workflows"),
)


def check_emitted() -> None:
    """Every statekit metric a panel reads is one the functions emit."""
    for panel in PANELS:
        missing = [name for name in panel.statekit_metrics if name not in METRICS]
        if missing:
            raise ValueError(
                f"dashboard panel {panel.key!r} reads metrics no function emits: {missing}"
            )


check_emitted()
