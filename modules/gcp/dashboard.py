"""The state dashboard and the alerts on failed state transitions, in Cloud Monitoring.

The functions export with Google's OpenTelemetry exporters
(``statekit.observability.platform``): each instrument becomes the metric
``workload.googleapis.com/<instrument name>`` and each attribute a metric label,
its key with every character other than a letter or digit made ``_``
(``statekit.outcome`` -> ``statekit_outcome``). The duration histogram is a
distribution, so PromQL counts operations with its ``_count`` series. The
statekit panels are PromQL over those names (the UTF-8 form keeps the metric name
readable); function invocations, Pub/Sub backlog and dead letters, and Workflows
executions are Google's own metrics.

One tile per portable panel (``modules.common.dashboard.PANELS``), and three alert
policies: state-operation error percentage, dead letters, failed workflow runs,
each sent to the notification channels it is given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cdktn_provider_google.monitoring_alert_policy import (
    MonitoringAlertPolicy,
    MonitoringAlertPolicyAlertStrategy,
    MonitoringAlertPolicyConditions,
    MonitoringAlertPolicyConditionsConditionPrometheusQueryLanguage,
    MonitoringAlertPolicyConditionsConditionThreshold,
    MonitoringAlertPolicyConditionsConditionThresholdAggregations,
    MonitoringAlertPolicyDocumentation,
)
from cdktn_provider_google.monitoring_dashboard import MonitoringDashboard
from constructs import Construct

from statekit.observability.telemetry import (
    CACHE_REQUESTS,
    OPERATION_DURATION,
    QUEUE_MESSAGES,
    WORKFLOW_RUNS,
)

from ..common.dashboard import (
    BACKEND,
    CACHE_HIT,
    ERROR_OUTCOMES,
    OPERATION,
    OUTCOME,
    PANELS,
    QUEUE_EVENT,
    WORKFLOW_EVENT,
)
from .context import GcpContext

WORKLOAD_PREFIX = "workload.googleapis.com"  # the Google exporter's default prefix
ALIGNMENT = "300s"
WINDOW = "5m"
COLUMNS = 48
WORKFLOW_RESOURCE = "workflows.googleapis.com/Workflow"
FINISHED_EXECUTIONS = "workflows.googleapis.com/finished_execution_count"


def label(attribute: str) -> str:
    """The Cloud Monitoring label key the exporter gives an attribute (its normalization)."""
    key = "".join(c if c.isalnum() else "_" for c in attribute)
    return f"key_{key}" if key[0].isdigit() else key


def workload_metric(metric: str) -> str:
    return f"{WORKLOAD_PREFIX}/{metric}"


def _series(metric: str, matchers: Mapping[str, str] | None = None, suffix: str = "") -> str:
    """A PromQL selector of a workload metric in the UTF-8 form; ``=~`` for ``a|b`` values."""
    parts = [json.dumps(workload_metric(metric) + suffix)]
    for attribute, value in (matchers or {}).items():
        operator = "=~" if "|" in value else "="
        parts.append(f"{label(attribute)}{operator}{json.dumps(value)}")
    return "{" + ", ".join(parts) + "}"


def _rate(selector: str, by: Sequence[str] = ()) -> str:
    grouping = f" by ({', '.join(label(a) for a in by)})" if by else ""
    return f"sum{grouping} (rate({selector}[{WINDOW}]))"


def _percent(numerator: str, denominator: str, by: Sequence[str] = ()) -> str:
    return f"100 * {_rate(numerator, by)} / {_rate(denominator, by)}"


def _operations(matchers: Mapping[str, str] | None = None) -> str:
    # The duration histogram is a distribution: its _count series counts operations.
    return _series(OPERATION_DURATION, matchers, "_count")


def state_error_percent(by: Sequence[str] = ()) -> str:
    """PromQL: failed (unavailable, invalid, error) state operations, in percent."""
    failed = _operations({OUTCOME: "|".join(ERROR_OUTCOMES)})
    return _percent(failed, _operations(), by)


def _promql(query: str, legend: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {"timeSeriesQuery": {"prometheusQuery": query}, "plotType": "LINE"}
    if legend:
        data["legendTemplate"] = legend
    return data


def _native(filter_: str, aligner: str, group_by: Sequence[str]) -> dict[str, Any]:
    return {
        "timeSeriesQuery": {
            "timeSeriesFilter": {
                "filter": filter_,
                "aggregation": {
                    "alignmentPeriod": ALIGNMENT,
                    "perSeriesAligner": aligner,
                    "crossSeriesReducer": "REDUCE_SUM",
                    "groupByFields": list(group_by),
                },
            }
        },
        "plotType": "LINE",
    }


def _one_of(field: str, names: Sequence[str]) -> str:
    return f'{field} = monitoring.regex.full_match("{"|".join(sorted(names))}")'


def _subscription_metric(metric: str, subscriptions: Sequence[str]) -> str:
    return (
        'resource.type = "pubsub_subscription" AND '
        f'metric.type = "pubsub.googleapis.com/subscription/{metric}" AND '
        + _one_of("resource.labels.subscription_id", subscriptions)
    )


def _workflow_runs(workflows: Sequence[str], status: str | None = None) -> str:
    only = f' AND metric.labels.status = "{status}"' if status else ""
    return (
        f'resource.type = "{WORKFLOW_RESOURCE}" AND metric.type = "{FINISHED_EXECUTIONS}"{only} '
        "AND " + _one_of("resource.labels.workflow_id", workflows)
    )


def panel_data_sets(
    *,
    functions: Sequence[str],
    subscriptions: Sequence[str] = (),
    dead_letter_subscriptions: Sequence[str] = (),
    workflows: Sequence[str] = (),
) -> dict[str, list[dict[str, Any]]]:
    """Per panel key: the xyChart data sets of its tile."""
    queues: list[dict[str, Any]] = []
    if subscriptions:
        queues += [
            _native(
                _subscription_metric("num_undelivered_messages", subscriptions),
                "ALIGN_MAX",
                ["resource.label.subscription_id"],
            ),
            _native(
                _subscription_metric("dead_letter_message_count", subscriptions),
                "ALIGN_SUM",
                ["resource.label.subscription_id"],
            ),
        ]
    if dead_letter_subscriptions:
        queues.append(
            _native(
                _subscription_metric("num_undelivered_messages", dead_letter_subscriptions),
                "ALIGN_MAX",
                ["resource.label.subscription_id"],
            )
        )
    queues.append(
        _promql(_rate(_series(QUEUE_MESSAGES), [QUEUE_EVENT]), f"{{{{{label(QUEUE_EVENT)}}}}}")
    )
    workflow_sets: list[dict[str, Any]] = []
    if workflows:
        workflow_sets.append(
            _native(_workflow_runs(workflows), "ALIGN_SUM", ["metric.label.status"])
        )
    workflow_sets.append(
        _promql(_rate(_series(WORKFLOW_RUNS), [WORKFLOW_EVENT]), f"{{{{{label(WORKFLOW_EVENT)}}}}}")
    )
    return {
        "invocations": [
            _native(
                'resource.type = "cloud_run_revision" AND '
                'metric.type = "run.googleapis.com/request_count" AND '
                + _one_of("resource.labels.service_name", functions),
                "ALIGN_RATE",
                ["resource.label.service_name", "metric.label.response_code_class"],
            )
        ],
        "state_errors": [_promql(state_error_percent([BACKEND, OPERATION]))],
        "conflicts": [_promql(_percent(_operations({OUTCOME: "conflict"}), _operations()))],
        "cache_hits": [
            _promql(
                _percent(
                    _series(CACHE_REQUESTS, {CACHE_HIT: "true"}),
                    _series(CACHE_REQUESTS),
                    [BACKEND],
                )
            )
        ],
        "queues": queues,
        "workflows": workflow_sets,
    }


def dashboard_json(
    ctx: GcpContext,
    *,
    functions: Sequence[str],
    subscriptions: Sequence[str] = (),
    dead_letter_subscriptions: Sequence[str] = (),
    workflows: Sequence[str] = (),
) -> dict[str, Any]:
    data_sets = panel_data_sets(
        functions=functions,
        subscriptions=subscriptions,
        dead_letter_subscriptions=dead_letter_subscriptions,
        workflows=workflows,
    )
    tiles = [
        {
            "xPos": (index % 2) * (COLUMNS // 2),
            "yPos": (index // 2) * 16,
            "width": COLUMNS // 2,
            "height": 16,
            "widget": {
                "title": panel.title,
                "xyChart": {"dataSets": data_sets[panel.key], "timeshiftDuration": "0s"},
            },
        }
        for index, panel in enumerate(PANELS)
    ]
    return {
        "displayName": f"statekit state ({ctx.settings.env})",
        "mosaicLayout": {"columns": COLUMNS, "tiles": tiles},
    }


class StateDashboard(Construct):
    """One Cloud Monitoring dashboard for the stack, and its three state alert policies."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        ctx: GcpContext,
        *,
        notification_channels: Sequence[str],
        functions: Sequence[str],
        subscriptions: Sequence[str] = (),
        dead_letter_subscriptions: Sequence[str] = (),
        workflows: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.ctx = ctx
        self.channels = list(notification_channels)
        body = dashboard_json(
            ctx,
            functions=functions,
            subscriptions=subscriptions,
            dead_letter_subscriptions=dead_letter_subscriptions,
            workflows=workflows,
        )
        self.dashboard = MonitoringDashboard(
            self,
            "dashboard",
            project=ctx.project,
            dashboard_json=json.dumps(body),
            depends_on=ctx.apis,
        )
        threshold = ctx.settings.observability.state_error_percent_threshold
        self.state_error_alert = self._policy(
            "state-errors",
            "failed state operations (%)",
            "State operations that failed (unavailable, invalid or error; a conflict is an "
            f"answer, not a failure) reached {threshold} % over 5 minutes.",
            MonitoringAlertPolicyConditions(
                display_name="failed state operations (%)",
                condition_prometheus_query_language=(
                    MonitoringAlertPolicyConditionsConditionPrometheusQueryLanguage(
                        query=f"{state_error_percent()} >= {threshold}",
                        duration="0s",
                        evaluation_interval="60s",
                    )
                ),
            ),
        )
        # No subscription or no workflow in the stack: nothing to alert on, no policy.
        self.dead_letter_alert = (
            self._policy(
                "state-dead-letters",
                "messages dead-lettered",
                "Messages failed every delivery attempt and went to the dead-letter topic.",
                _count_condition(
                    "messages dead-lettered",
                    _subscription_metric("dead_letter_message_count", subscriptions),
                    ctx.settings.observability.dead_letter_alarm_threshold,
                ),
            )
            if subscriptions
            else None
        )
        self.failed_workflow_alert = (
            self._policy(
                "failed-workflows",
                "failed workflow runs",
                "A workflow run (Cloud Workflows execution) ended FAILED.",
                _count_condition("failed workflow runs", _workflow_runs(workflows, "FAILED"), 1),
            )
            if workflows
            else None
        )

    def _policy(
        self,
        construct_id: str,
        title: str,
        documentation: str,
        condition: MonitoringAlertPolicyConditions,
    ) -> MonitoringAlertPolicy:
        return MonitoringAlertPolicy(
            self,
            construct_id,
            project=self.ctx.project,
            display_name=f"statekit {self.ctx.settings.env}: {title}",
            combiner="OR",
            severity="ERROR",
            notification_channels=self.channels or None,
            documentation=MonitoringAlertPolicyDocumentation(
                content=documentation, mime_type="text/markdown"
            ),
            alert_strategy=MonitoringAlertPolicyAlertStrategy(auto_close="86400s"),
            conditions=[condition],
            depends_on=self.ctx.apis,
        )


def _count_condition(title: str, filter_: str, threshold: int) -> MonitoringAlertPolicyConditions:
    """The summed count over 5 minutes reaches ``threshold``."""
    return MonitoringAlertPolicyConditions(
        display_name=title,
        condition_threshold=MonitoringAlertPolicyConditionsConditionThreshold(
            filter=filter_,
            comparison="COMPARISON_GT",
            threshold_value=threshold - 1,  # counts are whole: "> threshold - 1" is ">="
            duration="0s",
            aggregations=[
                MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                    alignment_period=ALIGNMENT,
                    per_series_aligner="ALIGN_SUM",
                    cross_series_reducer="REDUCE_SUM",
                )
            ],
        ),
    )
