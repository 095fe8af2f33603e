"""The state workbook and the alerts on failed state transitions, over Application Insights.

The functions export through the Azure Monitor OpenTelemetry distro
(``statekit.observability.platform``), which writes each OpenTelemetry metric into
Application Insights' ``customMetrics`` table: ``name`` is the instrument name,
``customDimensions`` the attributes; a histogram's ``valueCount`` is how many
operations it measured, a counter's ``valueSum`` its increments. Function
invocations are the ``requests`` table; Durable Functions writes a tracking trace
per orchestration state change; the Functions host logs each message it moves to
``<queue>-poison``. Queue depth is Queue Storage's own ``QueueMessageCount``
metric, published per storage account (the queue account holds the queue and its
poison queue only).

One workbook item (a group) per portable panel (``modules.common.dashboard.PANELS``),
and three log alerts: state-operation error percentage, dead letters, failed
workflow runs, each wired to the action group it is given.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from cdktn import Fn
from cdktn_provider_azurerm.application_insights_workbook import ApplicationInsightsWorkbook
from cdktn_provider_azurerm.monitor_scheduled_query_rules_alert_v2 import (
    MonitorScheduledQueryRulesAlertV2,
    MonitorScheduledQueryRulesAlertV2Action,
    MonitorScheduledQueryRulesAlertV2Criteria,
)
from constructs import Construct

from statekit.observability.telemetry import (
    CACHE_REQUESTS,
    OPERATION_DURATION,
    QUEUE_MESSAGES,
    WORKFLOW_RUNS,
)

from ..common.dashboard import (
    BACKEND,
    BLOCK,
    CACHE_HIT,
    ERROR_OUTCOMES,
    OPERATION,
    OUTCOME,
    PANELS,
    QUEUE_EVENT,
    WORKFLOW_EVENT,
)
from .context import AzureContext

BIN = "5m"
DAY_MS = 24 * 60 * 60 * 1000
INSIGHTS = "microsoft.insights/components"
QUEUE_SERVICE = "microsoft.storage/storageaccounts/queueservices"
DURABLE_CATEGORY = "Host.Triggers.DurableTask"
# Durable Functions' terminal orchestration states, as its tracking traces spell them.
WORKFLOW_END_STATES = ("Completed", "Failed", "Terminated")
POISON_LOG = "Moving message to queue"  # the Functions host's line for a poison move


def _kql_list(values: Sequence[str]) -> str:
    return "dynamic([" + ", ".join(json.dumps(v) for v in values) + "])"


def _dim(attribute: str) -> str:
    return f'tostring(customDimensions["{attribute}"])'


def _metric_rows(metric: str) -> str:
    return f'customMetrics\n| where name == "{metric}"'


def _state_error_percent(by: Sequence[str], binned: bool) -> str:
    """Failed (unavailable, invalid, error) over all state operations, in percent."""
    columns = {name.rsplit(".", 1)[-1]: _dim(name) for name in by}  # block, backend, operation
    group = ([f"bin(timestamp, {BIN})"] if binned else []) + list(columns)
    extend = "\n| extend " + ", ".join(f"{c} = {e}" for c, e in columns.items()) if columns else ""
    by_clause = f" by {', '.join(group)}" if group else ""
    return (
        f"{_metric_rows(OPERATION_DURATION)}{extend}\n"
        f"| extend failed = iff({_dim(OUTCOME)} in ({_kql_list(ERROR_OUTCOMES)}), valueCount, 0)\n"
        f"| summarize failed = sum(failed), operations = sum(valueCount){by_clause}\n"
        "| extend percent = iff(operations == 0, 0.0, 100.0 * failed / operations)"
    )


def _poison_moves(poison_queues: Sequence[str]) -> str:
    queues = " or ".join(f'message has "{q}"' for q in poison_queues) or "false"
    return f'traces\n| where message has "{POISON_LOG}"\n| where {queues}'


def _workflow_ends(workflows: Sequence[str]) -> str:
    return (
        "traces\n"
        f'| where tostring(customDimensions["Category"]) == "{DURABLE_CATEGORY}"\n'
        '| extend state = tostring(customDimensions["prop__state"]), '
        'workflow = tostring(customDimensions["prop__functionName"])\n'
        f"| where workflow in ({_kql_list(workflows)}) "
        f"and state in ({_kql_list(WORKFLOW_END_STATES)})"
    )


def panel_queries(
    *, function_apps: Sequence[str], poison_queues: Sequence[str], workflows: Sequence[str]
) -> dict[str, list[tuple[str, str, str]]]:
    """Per panel key: (title, KQL over Application Insights, visualization) of each query."""
    cache = _metric_rows(CACHE_REQUESTS)
    return {
        "invocations": [
            (
                "Invocations and failures by function app",
                "requests\n"
                f"| where cloud_RoleName in ({_kql_list(function_apps)})\n"
                "| summarize invocations = count(), failures = countif(success == false) "
                f"by bin(timestamp, {BIN}), cloud_RoleName",
                "timechart",
            )
        ],
        "state_errors": [
            (
                "Failed state operations (%) by backend and operation",
                _state_error_percent((BLOCK, BACKEND, OPERATION), binned=True)
                + "\n| extend series = strcat(block, ' ', backend, ' ', operation)"
                "\n| project timestamp, series, percent",
                "timechart",
            ),
            (
                "Failed state operations by backend, operation and outcome",
                f"{_metric_rows(OPERATION_DURATION)}\n"
                f"| where {_dim(OUTCOME)} in ({_kql_list(ERROR_OUTCOMES)})\n"
                f"| summarize failed = sum(valueCount) by backend = {_dim(BACKEND)}, "
                f"operation = {_dim(OPERATION)}, outcome = {_dim(OUTCOME)}\n"
                "| order by failed desc",
                "table",
            ),
        ],
        "conflicts": [
            (
                "Conflicts (%) of state operations",
                f"{_metric_rows(OPERATION_DURATION)}\n"
                f'| extend conflict = iff({_dim(OUTCOME)} == "conflict", valueCount, 0)\n'
                "| summarize conflicts = sum(conflict), operations = sum(valueCount) "
                f"by bin(timestamp, {BIN})\n"
                "| project timestamp, conflict_percent = "
                "iff(operations == 0, 0.0, 100.0 * conflicts / operations)",
                "timechart",
            )
        ],
        "cache_hits": [
            (
                "Cache hit ratio (%) by backend",
                f"{cache}\n"
                f'| extend hit = iff({_dim(CACHE_HIT)} == "true", valueSum, 0.0)\n'
                "| summarize hits = sum(hit), lookups = sum(valueSum) "
                f"by bin(timestamp, {BIN}), backend = {_dim(BACKEND)}\n"
                "| project timestamp, backend, hit_percent = "
                "iff(lookups == 0, 0.0, 100.0 * hits / lookups)",
                "timechart",
            )
        ],
        "queues": [
            (
                "Queue messages by event (statekit)",
                f"{_metric_rows(QUEUE_MESSAGES)}\n"
                f"| summarize messages = sum(valueSum) by bin(timestamp, {BIN}), "
                f"event = {_dim(QUEUE_EVENT)}",
                "timechart",
            ),
            (
                "Messages moved to the poison (dead-letter) queues",
                _poison_moves(poison_queues)
                + f"\n| summarize dead_letters = count() by bin(timestamp, {BIN})",
                "timechart",
            ),
        ],
        "workflows": [
            (
                "Workflow runs ended, by status",
                _workflow_ends(workflows)
                + f"\n| summarize runs = count() by bin(timestamp, {BIN}), state",
                "timechart",
            ),
            (
                "Workflow runs started (statekit)",
                f"{_metric_rows(WORKFLOW_RUNS)}\n"
                f"| summarize runs = sum(valueSum) by bin(timestamp, {BIN}), "
                f"event = {_dim(WORKFLOW_EVENT)}",
                "timechart",
            ),
        ],
    }


def _query_item(
    name: str, title: str, query: str, visualization: str, insights_id: str
) -> dict[str, Any]:
    return {
        "type": 3,  # KqlItem
        "name": name,
        "content": {
            "version": "KqlItem/1.0",
            "title": title,
            "query": query,
            "size": 0,
            "timeContext": {"durationMs": DAY_MS},
            "queryType": 0,  # logs
            "resourceType": INSIGHTS,
            "crossComponentResources": [insights_id],
            "visualization": visualization,
        },
    }


def _queue_depth_item(queue_account_id: str) -> dict[str, Any]:
    return {
        "type": 10,  # MetricsItem
        "name": "queues-depth",
        "content": {
            "version": "MetricsItem/2.0",
            "title": "Queue depth (messages in the queue account: queue and poison queue)",
            "size": 0,
            "chartType": 2,  # line
            "resourceType": QUEUE_SERVICE,
            "metricScope": 0,
            "resourceIds": [f"{queue_account_id}/queueServices/default"],
            "timeContext": {"durationMs": DAY_MS},
            "metrics": [
                {
                    "namespace": QUEUE_SERVICE,
                    "metric": f"{QUEUE_SERVICE}-Capacity-QueueMessageCount",
                    "aggregation": 4,  # average
                }
            ],
        },
    }


def workbook_data(
    *,
    insights_id: str,
    function_apps: Sequence[str],
    poison_queues: Sequence[str] = (),
    workflows: Sequence[str] = (),
    queue_account_id: str | None = None,
) -> dict[str, Any]:
    """The workbook's ``serializedData``: one group item per portable panel."""
    queries = panel_queries(
        function_apps=function_apps, poison_queues=poison_queues, workflows=workflows
    )
    items = []
    for panel in PANELS:
        children = [
            _query_item(f"{panel.key}-{index}", title, query, visualization, insights_id)
            for index, (title, query, visualization) in enumerate(queries[panel.key])
        ]
        if panel.key == "queues" and queue_account_id:
            children.insert(0, _queue_depth_item(queue_account_id))
        items.append(
            {
                "type": 12,  # group
                "name": panel.key,
                "content": {
                    "version": "NotebookGroup/1.0",
                    "groupType": "editable",
                    "title": panel.title,
                    "items": children,
                },
            }
        )
    return {
        "version": "Notebook/1.0",
        "items": items,
        "isLocked": False,
        "fallbackResourceIds": [insights_id],
    }


class StateWorkbook(Construct):
    """The stack's state workbook over Application Insights, and its three state alerts."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        ctx: AzureContext,
        *,
        insights_id: str,
        action_group_id: str,
        function_apps: Sequence[str],
        poison_queues: Sequence[str] = (),
        workflows: Sequence[str] = (),
        queue_account_id: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.ctx = ctx
        self.insights_id = insights_id
        self.action_group_id = action_group_id
        data = workbook_data(
            insights_id=insights_id,
            function_apps=function_apps,
            poison_queues=poison_queues,
            workflows=workflows,
            queue_account_id=queue_account_id,
        )
        self.workbook = ApplicationInsightsWorkbook(
            self,
            "workbook",
            # A workbook's name is a GUID: derived from the stack, so every synth agrees.
            name=str(uuid.uuid5(uuid.NAMESPACE_URL, f"statekit:{ctx.naming.name('state')}")),
            display_name=f"statekit state ({ctx.settings.env})",
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
            category="workbook",
            # The provider wants the source resource id in lower case.
            source_id=Fn.lower(insights_id),
            data_json=json.dumps(data),
        )
        settings = ctx.settings.observability
        self.state_error_alert = self._alert(
            "state-errors",
            description=(
                "State operations that failed (unavailable, invalid or error; a conflict is an "
                "answer, not a failure) at or above the environment's percentage"
            ),
            query=_state_error_percent((), binned=False),
            column="percent",
            threshold=settings.state_error_percent_threshold,
        )
        # No queue or no workflow in the stack: nothing to alert on, no rule.
        self.dead_letter_alert = (
            None
            if not poison_queues
            else self._alert(
                "dead-letters",
                description="Messages moved to a poison (dead-letter) queue after their last attempt",
                query=_poison_moves(poison_queues) + "\n| summarize dead_letters = count()",
                column="dead_letters",
                threshold=settings.dead_letter_alarm_threshold,
            )
        )
        self.failed_workflow_alert = (
            None
            if not workflows
            else self._alert(
                "failed-workflows",
                description="Workflow runs (Durable orchestrations) that ended Failed",
                query=_workflow_ends(workflows)
                + '\n| where state == "Failed"\n| summarize failed = count()',
                column="failed",
                threshold=1,  # every failed run is a failed state transition
            )
        )

    def _alert(
        self,
        name: str,
        *,
        description: str,
        query: str,
        column: str,
        threshold: int,
    ) -> MonitorScheduledQueryRulesAlertV2:
        return MonitorScheduledQueryRulesAlertV2(
            self,
            name,
            name=self.ctx.naming.name(name),
            resource_group_name=self.ctx.resource_group_name,
            location=self.ctx.location,
            description=description,
            scopes=[self.insights_id],
            severity=2,
            evaluation_frequency="PT5M",
            window_duration="PT5M",
            criteria=[
                MonitorScheduledQueryRulesAlertV2Criteria(
                    query=query,
                    time_aggregation_method="Maximum",
                    metric_measure_column=column,
                    operator="GreaterThanOrEqual",
                    threshold=threshold,
                )
            ],
            action=MonitorScheduledQueryRulesAlertV2Action(action_groups=[self.action_group_id]),
        )
