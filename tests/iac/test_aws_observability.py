"""The AWS stacks' state dashboard and state-error alarm, read from the synthesized JSON (issue 17)."""

from __future__ import annotations

import json
import re

from statekit.observability.telemetry import METRICS, OPERATION_DURATION
from tests.iac.conftest import Synthesized

SEARCH_METRIC = re.compile(r'MetricName=\\?"([^"\\]+)')


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
