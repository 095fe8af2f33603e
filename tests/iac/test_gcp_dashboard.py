"""The GCP state dashboard and alert policies, checked in the Terraform JSON they synthesize."""

from __future__ import annotations

import json
import re
from typing import Any

import cdktn
import pytest
from cdktn import TerraformStack
from cdktn_provider_google.provider import GoogleProvider

from modules.common.dashboard import PANELS
from modules.common.naming import Naming
from modules.common.settings import ObservabilitySettings, StackSettings
from modules.gcp.context import GcpContext
from modules.gcp.dashboard import StateDashboard, label
from statekit.observability.telemetry import METRICS
from tests.iac.conftest import TARGET_VERSIONS

CHANNELS = ["projects/p/notificationChannels/1", "projects/p/notificationChannels/2"]
SETTINGS = StackSettings(
    env="staging",
    cloud="gcp",
    region="europe-west1",
    project="statekit-staging",
    owner="platform-team",
    observability=ObservabilitySettings(
        state_error_percent_threshold=9, dead_letter_alarm_threshold=4
    ),
)
# The statekit metric in a PromQL selector, with the distribution suffix PromQL adds.
WORKLOAD = re.compile(r'"workload\.googleapis\.com/([^"]+?)(?:_count|_sum|_bucket)?"')


def synth(**inputs: Any) -> dict[str, Any]:
    app = cdktn.Testing.app(context={"targetVersions": TARGET_VERSIONS})
    stack = TerraformStack(app, "dashboard-test")
    GoogleProvider(stack, "google", project=SETTINGS.project, region=SETTINGS.region)
    ctx = GcpContext(
        scope=stack,
        settings=SETTINGS,
        naming=Naming(SETTINGS),
        project=SETTINGS.project,
        region=SETTINGS.region,
        project_number="123456",
    )
    arguments: dict[str, Any] = {
        "notification_channels": CHANNELS,
        "functions": ["statekit-staging-api", "statekit-staging-worker"],
        "subscriptions": ["statekit-staging-work"],
        "dead_letter_subscriptions": ["statekit-staging-work-dlq"],
        "workflows": ["statekit-staging-order-saga"],
        **inputs,
    }
    StateDashboard(stack, "state", ctx, **arguments)
    return dict(json.loads(cdktn.Testing.synth(stack)))


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return synth()


def tiles(config: dict[str, Any]) -> list[dict[str, Any]]:
    (dashboard,) = config["resource"]["google_monitoring_dashboard"].values()
    return list(json.loads(dashboard["dashboard_json"])["mosaicLayout"]["tiles"])


def policies(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = config["resource"]["google_monitoring_alert_policy"]
    return {policy["display_name"]: policy for policy in found.values()}


def data_set_text(tile: dict[str, Any]) -> list[str]:
    return [
        data["timeSeriesQuery"].get("prometheusQuery")
        or data["timeSeriesQuery"]["timeSeriesFilter"]["filter"]
        for data in tile["widget"]["xyChart"]["dataSets"]
    ]


def test_one_tile_per_portable_panel_within_the_grid(config: dict[str, Any]) -> None:
    found = tiles(config)
    assert [t["widget"]["title"] for t in found] == [panel.title for panel in PANELS]
    for tile in found:
        assert tile["xPos"] + tile["width"] <= 48 and tile["widget"]["xyChart"]["dataSets"]


def test_every_statekit_metric_a_tile_reads_is_emitted_and_each_tile_reads_its_own(
    config: dict[str, Any],
) -> None:
    for panel, tile in zip(PANELS, tiles(config), strict=True):
        read = {name for text in data_set_text(tile) for name in WORKLOAD.findall(text)}
        assert read <= set(METRICS), f"{panel.key} reads metrics no function emits: {read}"
        assert set(panel.statekit_metrics) <= read, f"{panel.key} misses its metrics"


def test_native_metrics_of_the_panels(config: dict[str, Any]) -> None:
    text = {
        panel.key: " ".join(data_set_text(t))
        for panel, t in zip(PANELS, tiles(config), strict=True)
    }
    assert "run.googleapis.com/request_count" in text["invocations"]
    assert "statekit-staging-api|statekit-staging-worker" in text["invocations"]
    assert "subscription/num_undelivered_messages" in text["queues"]
    assert "subscription/dead_letter_message_count" in text["queues"]
    assert "statekit-staging-work-dlq" in text["queues"]
    assert "workflows.googleapis.com/finished_execution_count" in text["workflows"]


def test_label_keys_are_the_exporters_normalization() -> None:
    assert label("statekit.outcome") == "statekit_outcome"
    assert label("statekit.cache.hit") == "statekit_cache_hit"
    assert label("1st") == "key_1st"


def test_three_policies_thresholds_from_settings_to_the_given_channels(
    config: dict[str, Any],
) -> None:
    found = policies(config)
    assert set(found) == {
        "statekit staging: failed state operations (%)",
        "statekit staging: messages dead-lettered",
        "statekit staging: failed workflow runs",
    }
    for policy in found.values():
        assert policy["notification_channels"] == CHANNELS
    (state,) = found["statekit staging: failed state operations (%)"]["conditions"]
    query = state["condition_prometheus_query_language"]["query"]
    assert query.endswith(">= 9")
    assert set(WORKLOAD.findall(query)) == {"statekit.operation.duration"}
    assert 'statekit_outcome=~"unavailable|invalid|error"' in query
    (dead,) = found["statekit staging: messages dead-lettered"]["conditions"]
    assert dead["condition_threshold"]["threshold_value"] == 3  # > 3 is >= 4 messages
    assert "statekit-staging-work" in dead["condition_threshold"]["filter"]
    (failed,) = found["statekit staging: failed workflow runs"]["conditions"]
    assert 'metric.labels.status = "FAILED"' in failed["condition_threshold"]["filter"]
    assert failed["condition_threshold"]["threshold_value"] == 0


def test_no_queue_and_no_workflow_means_only_the_state_error_policy() -> None:
    config = synth(subscriptions=[], dead_letter_subscriptions=[], workflows=[])
    assert list(policies(config)) == ["statekit staging: failed state operations (%)"]
