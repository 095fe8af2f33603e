"""The Azure state workbook and alerts, checked in the Terraform JSON they synthesize."""

from __future__ import annotations

import json
import re
from typing import Any

import cdktn
import pytest
from cdktn import TerraformStack
from cdktn_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures

from modules.azure.context import AzureContext
from modules.azure.dashboard import StateWorkbook
from modules.common.dashboard import PANELS
from modules.common.naming import Naming
from modules.common.settings import ObservabilitySettings, StackSettings
from statekit.observability.telemetry import METRICS
from tests.iac.conftest import TARGET_VERSIONS

INSIGHTS_ID = "/subscriptions/0000/resourceGroups/rg/providers/microsoft.insights/components/statekit-insights"
ACTION_GROUP_ID = (
    "/subscriptions/0000/resourceGroups/rg/providers/microsoft.insights/actionGroups/ag"
)
QUEUE_ACCOUNT_ID = (
    "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/q"
)
SETTINGS = StackSettings(
    env="staging",
    cloud="azure",
    region="westeurope",
    owner="platform-team",
    app_name="statekit",  # names the resources statekit-staging-*
    observability=ObservabilitySettings(
        state_error_percent_threshold=7, dead_letter_alarm_threshold=3
    ),
)


def synth(**inputs: Any) -> dict[str, Any]:
    app = cdktn.Testing.app(context={"targetVersions": TARGET_VERSIONS})
    stack = TerraformStack(app, "dashboard-test")
    AzurermProvider(stack, "azurerm", features=[AzurermProviderFeatures()])
    ctx = AzureContext(
        scope=stack,
        settings=SETTINGS,
        naming=Naming(SETTINGS),
        location="westeurope",
        resource_group_name="statekit-staging-rg",
        resource_group_id="/subscriptions/0000/resourceGroups/statekit-staging-rg",
        tenant_id="tenant",
        deployer_object_id="deployer",
    )
    arguments: dict[str, Any] = {
        "insights_id": INSIGHTS_ID,
        "action_group_id": ACTION_GROUP_ID,
        "function_apps": ["statekit-staging-functions"],
        "poison_queues": ["statekit-work-poison"],
        "workflows": ["order_saga"],
        "queue_account_id": QUEUE_ACCOUNT_ID,
        **inputs,
    }
    StateWorkbook(stack, "state", ctx, **arguments)
    return dict(json.loads(cdktn.Testing.synth(stack)))


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return synth()


def workbook(config: dict[str, Any]) -> dict[str, Any]:
    (resource,) = config["resource"]["azurerm_application_insights_workbook"].values()
    return dict(resource)


def alerts(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(config["resource"]["azurerm_monitor_scheduled_query_rules_alert_v2"])


def queries(item: dict[str, Any]) -> list[str]:
    """Every KQL query of a workbook item (groups recursed)."""
    content = item["content"]
    if item["type"] == 12:
        return [q for child in content["items"] for q in queries(child)]
    return [content["query"]] if item["type"] == 3 else []


def test_one_workbook_group_per_portable_panel(config: dict[str, Any]) -> None:
    data = json.loads(workbook(config)["data_json"])
    assert [item["name"] for item in data["items"]] == [panel.key for panel in PANELS]
    assert [item["content"]["title"] for item in data["items"]] == [p.title for p in PANELS]
    for item in data["items"]:
        assert item["type"] == 12 and item["content"]["items"], item["name"]


def test_every_statekit_metric_a_panel_reads_is_emitted_and_each_panel_reads_its_own(
    config: dict[str, Any],
) -> None:
    data = json.loads(workbook(config)["data_json"])
    for panel, item in zip(PANELS, data["items"], strict=True):
        read = {
            name
            for query in queries(item)
            for name in re.findall(r'customMetrics\s*\| where name == "([^"]+)"', query)
        }
        assert read <= set(METRICS), f"{panel.key} reads metrics no function emits: {read}"
        assert set(panel.statekit_metrics) <= read, f"{panel.key} misses its metrics"


def test_native_sources_of_the_panels(config: dict[str, Any]) -> None:
    data = {item["name"]: item for item in json.loads(workbook(config)["data_json"])["items"]}
    assert any(
        "requests" in q and "statekit-staging-functions" in q for q in queries(data["invocations"])
    )
    assert any("statekit-work-poison" in q for q in queries(data["queues"]))
    depth = data["queues"]["content"]["items"][0]["content"]
    assert depth["resourceIds"] == [f"{QUEUE_ACCOUNT_ID}/queueServices/default"]
    assert "QueueMessageCount" in depth["metrics"][0]["metric"]
    assert any('"order_saga"' in q and "prop__state" in q for q in queries(data["workflows"]))


def test_workbook_is_named_by_a_stable_guid_over_the_given_insights(config: dict[str, Any]) -> None:
    resource = workbook(config)
    assert re.fullmatch(r"[0-9a-f-]{36}", resource["name"])
    assert resource["name"] == workbook(synth())["name"]  # same settings, same name
    assert INSIGHTS_ID in resource["source_id"] and "lower(" in resource["source_id"]


def test_three_alerts_with_thresholds_from_settings_to_the_given_action_group(
    config: dict[str, Any],
) -> None:
    found = alerts(config)
    assert len(found) == 3
    by_name = {alert["name"]: alert for alert in found.values()}
    assert set(by_name) == {
        "statekit-staging-state-errors",
        "statekit-staging-dead-letters",
        "statekit-staging-failed-workflows",
    }
    for alert in by_name.values():
        assert alert["scopes"] == [INSIGHTS_ID]
        assert alert["action"]["action_groups"] == [ACTION_GROUP_ID]
    state = by_name["statekit-staging-state-errors"]["criteria"][0]
    assert state["threshold"] == 7 and state["operator"] == "GreaterThanOrEqual"
    assert state["metric_measure_column"] == "percent"
    assert '"statekit.operation.duration"' in state["query"]
    assert '"unavailable", "invalid", "error"' in state["query"]
    dead = by_name["statekit-staging-dead-letters"]["criteria"][0]
    assert dead["threshold"] == 3 and "statekit-work-poison" in dead["query"]
    failed = by_name["statekit-staging-failed-workflows"]["criteria"][0]
    assert failed["threshold"] == 1 and 'state == "Failed"' in failed["query"]


def test_no_queue_and_no_workflow_means_only_the_state_error_alert() -> None:
    config = synth(poison_queues=[], workflows=[], queue_account_id=None)
    assert [a["name"] for a in alerts(config).values()] == ["statekit-staging-state-errors"]
    data = json.loads(workbook(config)["data_json"])
    queues = next(item for item in data["items"] if item["name"] == "queues")
    assert all(child["type"] == 3 for child in queues["content"]["items"])
