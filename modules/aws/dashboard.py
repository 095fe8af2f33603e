"""The state dashboard, the state-error alarm and the telemetry wiring of the functions on AWS.

With ``observability.tracing`` on, statekit's metrics reach CloudWatch as
embedded-metric-format logs in the namespace ``statekit/<app>-<env>``, with exactly
the dimension sets ``DIMENSION_SETS`` (statekit.observability.emf), which the
dashboard's queries and the alarm's metric math name. Two ways, one result:

- by default (no layer): the functions write the EMF lines themselves on standard
  output and send their spans to Lambda's X-Ray daemon (the ``aws`` platform of
  statekit.observability.platform, switched on by ``STATEKIT_AWS_TELEMETRY=1`` and
  given the namespace in ``STATEKIT_METRICS_NAMESPACE``);
- with ``observability.aws_otel_collector_layer``: the functions export OTLP to the
  ADOT collector on localhost, whose ``awsemf`` exporter writes the same documents
  and whose ``awsxray`` exporter sends the spans.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cdktn_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktn_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from constructs import Construct

from statekit.observability.emf import DIMENSION_SETS
from statekit.observability.platform import AWS_NAMESPACE_VARIABLE, AWS_SWITCH_VARIABLE
from statekit.observability.telemetry import (
    CACHE_REQUESTS,
    OPERATION_DURATION,
    QUEUE_MESSAGES,
    WORKFLOW_RUNS,
)

from ..common.dashboard import (
    ALL_OUTCOMES,
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
from .context import AwsContext

COLLECTOR_CONFIG_VARIABLE = "STATEKIT_OTEL_COLLECTOR_CONFIG"
PERIOD = 300

__all__ = ["DIMENSION_SETS", "StateDashboard", "telemetry_environment", "telemetry_layers"]


def namespace(ctx: AwsContext) -> str:
    return f"statekit/{ctx.naming.name('')}".rstrip("-")


def collector_config(metric_namespace: str) -> str:
    """The ADOT collector's configuration: OTLP in on localhost, X-Ray and EMF out."""
    config = {
        "receivers": {"otlp": {"protocols": {"http": {"endpoint": "localhost:4318"}}}},
        "exporters": {
            "awsxray": {},
            "awsemf": {
                "namespace": metric_namespace,
                "dimension_rollup_option": "NoDimensionRollup",
                "metric_declarations": [
                    {
                        "dimensions": [list(dims) for dims in DIMENSION_SETS],
                        "metric_name_selectors": ["^statekit\\."],
                    }
                ],
            },
        },
        "service": {
            "pipelines": {
                "traces": {"receivers": ["otlp"], "exporters": ["awsxray"]},
                "metrics": {"receivers": ["otlp"], "exporters": ["awsemf"]},
            }
        },
    }
    return json.dumps(config, separators=(",", ":"))  # JSON is YAML: one line in a variable


def telemetry_environment(ctx: AwsContext) -> dict[str, str]:
    """Function environment that turns statekit's export on when ``observability.tracing`` is.

    Without a collector layer, the in-process EMF and X-Ray exporters (module docstring);
    with one, OTLP to it."""
    if not ctx.settings.observability.tracing:
        return {}
    if not ctx.settings.observability.aws_otel_collector_layer:
        return {AWS_SWITCH_VARIABLE: "1", AWS_NAMESPACE_VARIABLE: namespace(ctx)}
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://localhost:4318",
        "OTEL_SERVICE_NAME": ctx.naming.name("functions"),
        COLLECTOR_CONFIG_VARIABLE: collector_config(namespace(ctx)),
        "OPENTELEMETRY_COLLECTOR_CONFIG_URI": f"env:{COLLECTOR_CONFIG_VARIABLE}",
    }


def telemetry_layers(ctx: AwsContext) -> list[str]:
    layer = ctx.settings.observability.aws_otel_collector_layer
    return [layer] if ctx.settings.observability.tracing and layer else []


def _search(metric_namespace: str, dims: Sequence[str], metric: str, where: str, stat: str) -> str:
    schema = ",".join([metric_namespace, *dims])
    return f"SEARCH('{{{schema}}} MetricName=\"{metric}\" {where}', '{stat}', {PERIOD})"


def _outcomes(values: Sequence[str]) -> str:
    return f"{OUTCOME}=(" + " OR ".join(f'"{v}"' for v in values) + ")"


def dashboard_body(
    ctx: AwsContext,
    *,
    functions: Sequence[str],
    queues: Sequence[str],
    dead_letter_queues: Sequence[str],
    state_machines: Sequence[str],
) -> dict[str, Any]:
    ns = namespace(ctx)
    per_op = [BLOCK, BACKEND, OPERATION, OUTCOME]
    widgets: dict[str, list[Any]] = {
        "invocations": [
            m
            for fn in functions
            for m in (
                ["AWS/Lambda", "Invocations", "FunctionName", fn, {"stat": "Sum"}],
                ["AWS/Lambda", "Errors", "FunctionName", fn, {"stat": "Sum"}],
            )
        ],
        "state_errors": [
            [
                {
                    "expression": _search(
                        ns, per_op, OPERATION_DURATION, _outcomes(ERROR_OUTCOMES), "SampleCount"
                    ),
                    "id": "failed",
                    "visible": False,
                }
            ],
            [
                {
                    "expression": _search(ns, per_op, OPERATION_DURATION, "", "SampleCount"),
                    "id": "all",
                    "visible": False,
                }
            ],
            [{"expression": "100 * SUM(failed) / SUM(all)", "id": "pct", "label": "failed %"}],
        ],
        "conflicts": [
            [
                {
                    "expression": _search(
                        ns, [OUTCOME], OPERATION_DURATION, _outcomes(["conflict"]), "SampleCount"
                    ),
                    "id": "c",
                    "visible": False,
                }
            ],
            [
                {
                    "expression": _search(ns, [OUTCOME], OPERATION_DURATION, "", "SampleCount"),
                    "id": "t",
                    "visible": False,
                }
            ],
            [{"expression": "100 * SUM(c) / SUM(t)", "id": "rate", "label": "conflict %"}],
        ],
        "cache_hits": [
            [
                {
                    "expression": _search(
                        ns, [CACHE_HIT], CACHE_REQUESTS, f'{CACHE_HIT}="true"', "Sum"
                    ),
                    "id": "h",
                    "visible": False,
                }
            ],
            [
                {
                    "expression": _search(ns, [CACHE_HIT], CACHE_REQUESTS, "", "Sum"),
                    "id": "r",
                    "visible": False,
                }
            ],
            [{"expression": "100 * SUM(h) / SUM(r)", "id": "ratio", "label": "hit %"}],
        ],
        "queues": [
            *(
                [
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    "QueueName",
                    q,
                    {"stat": "Maximum"},
                ]
                for q in queues
            ),
            *(
                [
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    "QueueName",
                    q,
                    {"stat": "Maximum", "label": f"dead letters {q}"},
                ]
                for q in dead_letter_queues
            ),
            [
                {
                    "expression": _search(
                        ns, [BLOCK, BACKEND, QUEUE_EVENT], QUEUE_MESSAGES, "", "Sum"
                    ),
                    "id": "events",
                }
            ],
        ],
        "workflows": [
            *(
                ["AWS/States", status, "StateMachineArn", arn, {"stat": "Sum"}]
                for arn in state_machines
                for status in (
                    "ExecutionsSucceeded",
                    "ExecutionsFailed",
                    "ExecutionsTimedOut",
                    "ExecutionsAborted",
                )
            ),
            [
                {
                    "expression": _search(ns, [WORKFLOW_EVENT], WORKFLOW_RUNS, "", "Sum"),
                    "id": "started",
                }
            ],
        ],
    }
    body = []
    for index, panel in enumerate(PANELS):
        body.append(
            {
                "type": "metric",
                "x": (index % 2) * 12,
                "y": (index // 2) * 6,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": panel.title,
                    "region": ctx.region,
                    "period": PERIOD,
                    "view": "timeSeries",
                    "metrics": widgets[panel.key],
                },
            }
        )
    return {"widgets": body}


class StateDashboard(Construct):
    """One CloudWatch dashboard for the stack, and the alarm on failed state operations."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        ctx: AwsContext,
        *,
        alert_topic_arn: str,
        functions: Sequence[str],
        queues: Sequence[str] = (),
        dead_letter_queues: Sequence[str] = (),
        state_machines: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        body = dashboard_body(
            ctx,
            functions=functions,
            queues=queues,
            dead_letter_queues=dead_letter_queues,
            state_machines=state_machines,
        )
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=ctx.naming.name("state"),
            dashboard_body=json.dumps(body),
        )
        ns = namespace(ctx)
        # Alarms cannot use SEARCH: metric math over the [statekit.outcome] dimension set.
        queries = [
            CloudwatchMetricAlarmMetricQuery(
                id=f"m_{outcome}",
                metric=CloudwatchMetricAlarmMetricQueryMetric(
                    namespace=ns,
                    metric_name=OPERATION_DURATION,
                    dimensions={OUTCOME: outcome},
                    period=PERIOD,
                    stat="SampleCount",
                ),
            )
            for outcome in ALL_OUTCOMES
        ]
        failed = " + ".join(f"FILL(m_{o}, 0)" for o in ERROR_OUTCOMES)
        total = " + ".join(f"FILL(m_{o}, 0)" for o in ALL_OUTCOMES)
        queries.append(
            CloudwatchMetricAlarmMetricQuery(
                id="failed_percent",
                expression=f"100 * ({failed}) / ({total})",
                label="failed state operations (%)",
                return_data=True,
            )
        )
        self.state_error_alarm = CloudwatchMetricAlarm(
            self,
            "state-errors",
            alarm_name=ctx.naming.name("state-errors"),
            alarm_description=(
                "State operations that failed (unavailable, invalid or error; conflicts are "
                "answers, not failures) above the environment's threshold"
            ),
            metric_query=queries,
            evaluation_periods=1,
            threshold=ctx.settings.observability.state_error_percent_threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[alert_topic_arn],
            ok_actions=[alert_topic_arn],
        )
