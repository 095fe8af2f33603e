"""The AWS stacks' state dashboard and state-error alarm, read from the synthesized JSON (issue 17)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast

import pytest

from modules.aws.context import AwsContext
from modules.aws.dashboard import (
    COLLECTOR_CONFIG_VARIABLE,
    namespace,
    telemetry_environment,
    telemetry_layers,
)
from modules.common.naming import Naming
from modules.common.settings import ObservabilitySettings, StackSettings
from statekit.observability.emf import DIMENSION_SETS
from statekit.observability.platform import AWS_NAMESPACE_VARIABLE, AWS_SWITCH_VARIABLE
from statekit.observability.telemetry import METRICS, OPERATION_DURATION
from tests.iac.conftest import Synthesized
from tests.observability.emf_workload import emf_lines

SEARCH_METRIC = re.compile(r'MetricName=\\?"([^"\\]+)')
# SEARCH('{namespace,dim,...} MetricName="name" ...'): the schema and the metric.
SEARCH = re.compile(r"SEARCH\('\{([^}]+)\} MetricName=\"([^\"]+)\"")


def test_every_aws_stack_has_one_dashboard_whose_statekit_metrics_are_emitted(
    synthesized: Synthesized,
) -> None:
    for name in synthesized.names("aws"):
        dashboards = synthesized.resources(name, "aws_cloudwatch_dashboard")
        assert len(dashboards) == 1, name
        body = json.loads(next(iter(dashboards.values()))["dashboard_body"])
        titles = [w["properties"]["title"] for w in body["widgets"]]
        assert "Cache hit ratio (%)" in titles and "Workflow runs by status" in titles
        searched = set(SEARCH_METRIC.findall(json.dumps(body)))
        assert searched, "the panels read statekit's metrics"
        assert searched <= set(METRICS), searched - set(METRICS)
        namespaces = set(re.findall(r"\{(statekit/[^,]+),", json.dumps(body)))
        assert len(namespaces) == 1, namespaces


def test_the_state_error_alarm_is_metric_math_over_outcomes_with_the_environment_threshold(
    synthesized: Synthesized,
) -> None:
    for name in synthesized.names("aws"):
        settings = synthesized.settings[name]
        alarms = [
            a
            for a in synthesized.resources(name, "aws_cloudwatch_metric_alarm").values()
            if a["alarm_name"].endswith("state-errors")
        ]
        assert len(alarms) == 1, name
        alarm = alarms[0]
        assert alarm["threshold"] == settings.observability.state_error_percent_threshold
        metrics = [q["metric"] for q in alarm["metric_query"] if "metric" in q]
        assert {m["metric_name"] for m in metrics} == {OPERATION_DURATION}
        outcomes = {m["dimensions"]["statekit.outcome"] for m in metrics}
        assert outcomes == {"ok", "conflict", "unavailable", "invalid", "error"}
        (returned,) = [q for q in alarm["metric_query"] if q.get("return_data")]
        # Conflicts count in the total but never as failures.
        assert "m_conflict" not in returned["expression"].split("/")[0]
        assert alarm["alarm_actions"], "wired to the alert topic"


# --- statekit's own export, no layer (the default) ------------------------------------


def _function_variables(synthesized: Synthesized, name: str) -> list[dict[str, str]]:
    functions = synthesized.resources(name, "aws_lambda_function").values()
    return [dict(f["environment"]["variables"]) for f in functions]


def _namespace(synthesized: Synthesized, name: str) -> str:
    dashboard = next(iter(synthesized.resources(name, "aws_cloudwatch_dashboard").values()))
    (found,) = set(re.findall(r"\{(statekit/[^,]+),", dashboard["dashboard_body"]))
    return str(found)


def test_with_tracing_and_no_layer_every_function_exports_itself_into_the_dashboards_namespace(
    synthesized: Synthesized,
) -> None:
    checked = 0
    for name in synthesized.names("aws"):
        observability = synthesized.settings[name].observability
        if not observability.tracing or observability.aws_otel_collector_layer:
            continue
        checked += 1
        for variables in _function_variables(synthesized, name):
            assert variables[AWS_SWITCH_VARIABLE] == "1"
            assert variables[AWS_NAMESPACE_VARIABLE] == _namespace(synthesized, name)
            assert not any(v.startswith("OTEL_EXPORTER_OTLP") for v in variables)
        for function in synthesized.resources(name, "aws_lambda_function").values():
            assert "layers" not in function
            assert function["tracing_config"] == {"mode": "Active"}  # the invocation segment
    assert checked, "every environment traces by default"


def test_what_the_dashboard_and_the_alarm_read_is_what_the_emf_exporter_writes(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    (name, *_) = synthesized.names("aws")
    dashboard = next(iter(synthesized.resources(name, "aws_cloudwatch_dashboard").values()))
    expressions = [
        item["expression"]
        for widget in json.loads(dashboard["dashboard_body"])["widgets"]
        for row in widget["properties"]["metrics"]
        for item in row
        if isinstance(item, dict) and "expression" in item
    ]
    searched = {
        (metric, tuple(schema.split(",")[1:]))
        for expression in expressions
        for schema, metric in SEARCH.findall(expression)
    }
    # per operation, by outcome (conflicts), cache hits, queue events, workflow runs
    assert len(searched) == 5, searched
    (alarm,) = [
        a
        for a in synthesized.resources(name, "aws_cloudwatch_metric_alarm").values()
        if a["alarm_name"].endswith("state-errors")
    ]
    alarmed = {
        (q["metric"]["metric_name"], tuple(q["metric"]["dimensions"]))
        for q in alarm["metric_query"]
        if "metric" in q
    }
    read = searched | alarmed
    assert all(dims in DIMENSION_SETS for _, dims in read), read
    namespace = _namespace(synthesized, name)
    written = {
        (definition["Name"], tuple(dims))
        for line in emf_lines(tmp_path, namespace)
        for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]
        if directive["Namespace"] == namespace
        for dims in directive["Dimensions"]
        for definition in directive["Metrics"]
    }
    assert read <= written, read - written


@pytest.mark.parametrize(
    ("tracing", "layer", "expected"),
    [
        (False, "", set()),
        (True, "", {AWS_SWITCH_VARIABLE, AWS_NAMESPACE_VARIABLE}),
        (
            True,
            "arn:aws:lambda:eu-west-1:901920570463:layer:aws-otel-collector-arm64-ver-0-117-0:1",
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "OTEL_SERVICE_NAME",
                COLLECTOR_CONFIG_VARIABLE,
                "OPENTELEMETRY_COLLECTOR_CONFIG_URI",
            },
        ),
    ],
)
def test_the_telemetry_variables_follow_tracing_and_the_collector_layer(
    tracing: bool, layer: str, expected: set[str]
) -> None:
    settings = StackSettings(
        env="obs",
        cloud="aws",
        region="eu-west-1",
        owner="team",
        production=False,
        app_name="shop",
        observability=ObservabilitySettings(tracing=tracing, aws_otel_collector_layer=layer),
    )
    ctx = AwsContext(
        stack=cast(Any, None),  # the variables read settings and names only
        settings=settings,
        naming=Naming(settings),
        account_id="123456789012",
        partition="aws",
        key_arn=None,
        region="eu-west-1",
    )
    variables = telemetry_environment(ctx)
    assert set(variables) == expected
    if AWS_NAMESPACE_VARIABLE in variables:
        assert variables[AWS_NAMESPACE_VARIABLE] == namespace(ctx) == "statekit/shop-obs"
    assert telemetry_layers(ctx) == ([layer] if tracing and layer else [])
