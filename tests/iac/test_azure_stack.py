"""The Azure stacks synthesize with the settings that matter (Testing API + the JSON)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from modules.common.app import AppSource
from modules.common.workflow import url_variable
from tests.iac.azure_gcp_support import ENVS, StackView
from tests.iac.conftest import APP, EXAMPLE, ROOT, Synthesized


@pytest.fixture(params=ENVS)
def stack(request: pytest.FixtureRequest, synthesized: Synthesized) -> StackView:
    return StackView(synthesized, "azure", request.param)


@pytest.fixture
def dev(synthesized: Synthesized) -> StackView:
    return StackView(synthesized, "azure", "dev")


@pytest.fixture
def prod(synthesized: Synthesized) -> StackView:
    return StackView(synthesized, "azure", "prod")


def has(stack: StackView, resource_type: str, properties: dict[str, Any]) -> bool:
    return stack.has(resource_type, properties)


def app_settings(stack: StackView) -> dict[str, str]:
    return dict(stack.one("azurerm_function_app_flex_consumption")["app_settings"])


def test_cosmos_container_partition_key_and_ttl(stack: StackView) -> None:
    assert has(
        stack,
        "azurerm_cosmosdb_sql_container",
        {
            "name": "items",
            "partition_key_paths": ["/pk"],
            "default_ttl": -1,
            "partition_key_version": 2,
        },
    )


def test_cosmos_account_is_keyless_tls12_with_continuous_backup(stack: StackView) -> None:
    account = stack.one("azurerm_cosmosdb_account")
    assert account["local_authentication_enabled"] is False
    assert account["access_key_metadata_writes_enabled"] is False
    assert account["minimal_tls_version"] == "Tls12"
    assert account["backup"]["type"] == "Continuous"


def test_cosmos_consistency_and_capacity_follow_settings(dev: StackView, prod: StackView) -> None:
    assert has(
        dev, "azurerm_cosmosdb_account", {"consistency_policy": {"consistency_level": "Session"}}
    )
    assert has(
        prod, "azurerm_cosmosdb_account", {"consistency_policy": {"consistency_level": "Strong"}}
    )
    assert has(dev, "azurerm_cosmosdb_account", {"capabilities": [{"name": "EnableServerless"}]})
    assert "capabilities" not in prod.one("azurerm_cosmosdb_account")
    assert (
        prod.one("azurerm_cosmosdb_sql_container")["autoscale_settings"]["max_throughput"] >= 1000
    )
    assert prod.one("azurerm_cosmosdb_account")["backup"]["tier"] == "Continuous30Days"


def test_prod_is_private_and_encrypted_with_a_customer_key(prod: StackView) -> None:
    account = prod.one("azurerm_cosmosdb_account")
    assert account["public_network_access_enabled"] is False
    assert "azurerm_key_vault_key" in account["key_vault_key_id"]
    assert account["lifecycle"]["prevent_destroy"] is True
    for resource_type in ("azurerm_redis_cache", "azurerm_key_vault"):
        assert prod.one(resource_type)["public_network_access_enabled"] is False
    for storage in prod.resources("azurerm_storage_account").values():
        assert storage["public_network_access_enabled"] is False
        assert "azurerm_key_vault_key" in storage["customer_managed_key"]["key_vault_key_id"]
    endpoints = {
        endpoint["private_service_connection"]["subresource_names"][0]
        for endpoint in prod.resources("azurerm_private_endpoint").values()
    }
    assert endpoints == {"Sql", "redisCache", "vault", "queue", "blob", "table"}
    assert prod.one("azurerm_function_app_flex_consumption")["virtual_network_subnet_id"]
    assert prod.one("azurerm_management_lock")["lock_level"] == "CanNotDelete"
    # Whatever encrypts with the key waits for the grant that lets its identity use the key.
    (grant_id,) = [
        name
        for name, r in prod.resources("azurerm_role_assignment").items()
        if r["role_definition_name"] == "Key Vault Crypto Service Encryption User"
    ]
    assert prod.resources("azurerm_role_assignment")[grant_id]["scope"].endswith(
        ".resource_versionless_id}"
    )
    for resource_type in ("azurerm_cosmosdb_account", "azurerm_storage_account"):
        for resource in prod.resources(resource_type).values():
            assert f"azurerm_role_assignment.{grant_id}" in resource["depends_on"]


def test_dev_keeps_public_access_and_no_network(dev: StackView) -> None:
    assert dev.one("azurerm_cosmosdb_account")["public_network_access_enabled"] is True
    assert not dev.resources("azurerm_virtual_network")
    assert not dev.resources("azurerm_private_endpoint")


def test_cosmos_data_role_is_scoped_to_the_container_for_the_function_identity(
    stack: StackView,
) -> None:
    assignment = stack.one("azurerm_cosmosdb_sql_role_assignment")
    assert assignment["role_definition_id"].endswith(
        "/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002"
    )
    # account id / dbs / <the database> / colls / <the container>: one container, not the account.
    assert re.fullmatch(
        r"\$\{azurerm_cosmosdb_account\.\w+\.id\}/dbs/\$\{azurerm_cosmosdb_sql_database\.\w+\.name\}"
        r"/colls/\$\{azurerm_cosmosdb_sql_container\.\w+\.name\}",
        assignment["scope"],
    ), assignment["scope"]
    assert re.fullmatch(
        r"\$\{azurerm_function_app_flex_consumption\.\w+\.identity\[0\]\.principal_id\}",
        assignment["principal_id"],
    ), assignment["principal_id"]


def test_redis_tls_only_and_signed_in_with_the_cache_identity(stack: StackView) -> None:
    if stack.env == "dev":  # the cache is switched off in dev
        assert not stack.resources("azurerm_redis_cache")
        assert "STATEKIT_CACHE_URL" not in app_settings(stack)
        assert "statekit_cache_url" not in stack.config["output"]
        return
    redis = stack.one("azurerm_redis_cache")
    assert redis["minimum_tls_version"] == "1.2" and redis["non_ssl_port_enabled"] is False
    # Microsoft Entra only: no access key, so no key secret, reader grant or password setting.
    assert redis["access_keys_authentication_enabled"] is False
    assert redis["redis_configuration"]["active_directory_authentication_enabled"] is True
    settings = app_settings(stack)
    assert not [name for name in settings if "PASSWORD" in name]
    assert not [
        s
        for s in stack.resources("azurerm_key_vault_secret").values()
        if "cache" in s["name"] or "redis" in s.get("content_type", "")
    ]
    assert "primary_access_key" not in json.dumps(stack.config)
    # The URL names the cache identity: its object id is the Redis user, its client id
    # picks it on the worker (statekit's entra_client_id, docs/urls.md).
    identity = identity_at(stack, "cache/identity")
    assert re.fullmatch(
        r"rediss://\$\{azurerm_user_assigned_identity\.(\S+)\.principal_id\}"
        r"@\$\{azurerm_redis_cache\.\w+\.hostname\}:6380/0"
        r"\?entra_client_id=\$\{azurerm_user_assigned_identity\.(\S+)\.client_id\}",
        settings["STATEKIT_CACHE_URL"],
    ), settings["STATEKIT_CACHE_URL"]
    assert settings["STATEKIT_CACHE_URL"].count(f".{identity}.") == 2
    # The app carries it beside the host identity (the system one stays for the rest).
    app = stack.one("azurerm_function_app_flex_consumption")
    assert app["identity"]["type"] == "SystemAssigned, UserAssigned"
    assert app["identity"]["identity_ids"] == [
        f"${{azurerm_user_assigned_identity.{key}.id}}"
        for key in (identity_at(stack, "functions/host-identity"), identity)
    ]


def identity_at(stack: StackView, path: str) -> str:
    """The key of the user-assigned identity made at construct ``path`` (under the stack)."""
    (key,) = [
        key
        for key, resource in stack.resources("azurerm_user_assigned_identity").items()
        if resource["//"]["metadata"]["path"] == f"{stack.name}/{path}"
    ]
    return key


def test_queue_storage_keyless_with_poison_queue_and_scoped_roles(stack: StackView) -> None:
    for storage in stack.resources("azurerm_storage_account").values():
        assert storage["shared_access_key_enabled"] is False
        assert storage["min_tls_version"] == "TLS1_2"
        assert storage["https_traffic_only_enabled"] is True
        assert storage["allow_nested_items_to_be_public"] is False
    names = sorted(q["name"] for q in stack.resources("azurerm_storage_queue").values())
    assert names == ["statekit-work", "statekit-work-poison"]
    queue_roles = [
        r
        for r in stack.resources("azurerm_role_assignment").values()
        if r["role_definition_name"] == "Storage Queue Data Contributor"
        and "functions_app" in r["principal_id"]
    ]
    assert sorted(r["scope"].split(".")[0] for r in queue_roles) == [
        "${azurerm_storage_queue",
        "${azurerm_storage_queue",
    ]
    settings = app_settings(stack)
    attempts = {"dev": 3, "staging": 5, "prod": 5}[stack.env]
    assert settings["STATEKIT_QUEUE_URL"].endswith(
        f".queue.core.windows.net/statekit-work?max_attempts={attempts}"
    )
    assert settings["STATEKIT_QUEUE_NAME"] == "statekit-work"
    assert "STATEKIT_QUEUE_CONNECTION__queueServiceUri" in settings


def test_function_app_flex_python_identity_and_urls(stack: StackView) -> None:
    app = stack.one("azurerm_function_app_flex_consumption")
    assert stack.one("azurerm_service_plan")["sku_name"] == "FC1"
    assert app["runtime_name"] == "python"
    assert app["runtime_version"] == "3.12"
    assert app["identity"]["type"] == "SystemAssigned, UserAssigned"
    assert app["https_only"] is True
    assert app["site_config"]["minimum_tls_version"] == "1.2"
    # Flex Consumption has no zip deploy: code_deploy.py publishes the code after apply.
    assert "zip_deploy_file" not in app
    settings = app["app_settings"]
    outputs = {
        name.upper(): output["value"]
        for name, output in stack.config["output"].items()
        if name.endswith("_url")
    }
    urls = {name: value for name, value in settings.items() if name.endswith("_URL")}
    assert urls == outputs
    assert settings["STATEKIT_APP"] == EXAMPLE.ref
    assert settings["STATEKIT_FUNCTION"] == "*"  # one Function App hosts every function
    assert settings["STATEKIT_STORE_URL"].endswith(".documents.azure.com/statekit/items")
    assert settings["STATEKIT_WORKFLOW_URL"].startswith("durable://")
    first = EXAMPLE.app.workflows[0].name
    assert settings["STATEKIT_WORKFLOW_URL"].endswith(f"/{first}?key_env=STATEKIT_DURABLE_KEY")
    for workflow in EXAMPLE.app.workflows:
        assert settings[url_variable(workflow)].endswith(
            f"/{workflow.name}?key_env=STATEKIT_DURABLE_KEY"
        )
    assert settings["STATEKIT_DURABLE_KEY"].startswith("@Microsoft.KeyVault(SecretUri=")
    assert settings["AzureFunctionsJobHost__extensions__durableTask__hubName"].startswith(
        APP.capitalize()
    )
    assert "AzureWebJobsStorage" not in settings  # identity-based: __accountName only
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"


def test_function_package_holds_the_runtime_entry_and_the_apps_code(dev: StackView) -> None:
    """The package staged for dev (by the session's synthesis) has the v2 entry and the code."""
    from modules.common.package import build_root

    staged = build_root() / "azure-function" / f"{APP}-azure-dev"
    assert (staged / "function_app.py").read_text() == (
        "from statekit.runtime.azure import function_app\napp = function_app()\n"
    )
    for package in EXAMPLE.app.code:
        assert (staged / package / "__init__.py").exists()
    assert (staged / "statekit" / "runtime" / "azure.py").exists()
    assert '"maxDequeueCount": 3' in (staged / "host.json").read_text()


def test_observability_alerts_and_budget(stack: StackView) -> None:
    retention = {"dev": 30, "staging": 30, "prod": 365}[stack.env]
    assert stack.one("azurerm_log_analytics_workspace")["retention_in_days"] == retention
    insights = stack.one("azurerm_application_insights")
    assert insights["local_authentication_enabled"] is False
    assert insights["workspace_id"]
    assert has(
        stack, "azurerm_monitor_metric_alert", {"criteria": [{"metric_name": "requests/failed"}]}
    )
    log_alerts = stack.resources("azurerm_monitor_scheduled_query_rules_alert_v2")
    (poison,) = [a for key, a in log_alerts.items() if key.startswith("observability_poison-queue")]
    assert "statekit-work-poison" in poison["criteria"][0]["query"]
    # The state dashboard's alerts (modules/azure/dashboard.py) stand beside it.
    assert any(key.startswith("dashboard_state-errors") for key in log_alerts)
    budget = stack.one("azurerm_consumption_budget_resource_group")
    assert budget["amount"] == {"dev": 20, "staging": 100, "prod": 500}[stack.env]
    assert budget["notification"][0]["threshold"] == 80


def test_key_vault_rbac_and_purge_protection_in_prod(stack: StackView) -> None:
    vault = stack.one("azurerm_key_vault")
    assert vault["rbac_authorization_enabled"] is True
    assert vault["purge_protection_enabled"] is (stack.env == "prod")


def test_required_tags_on_taggable_resources(stack: StackView) -> None:
    for resource_type in (
        "azurerm_cosmosdb_account",
        "azurerm_storage_account",
        "azurerm_key_vault",
    ):
        for resource in stack.resources(resource_type).values():
            assert resource["tags"]["environment"] == stack.env
            assert resource["tags"]["stack"] == f"{APP}-azure-{stack.env}"
            assert resource["tags"]["owner"] == "platform-team"


def test_policy_rejects_a_prod_cosmos_account_without_customer_key(
    prod: StackView, synth_one: Callable[..., str]
) -> None:
    weaker = replace(
        prod.settings, database=replace(prod.settings.database, customer_managed_key=False)
    )
    # The PolicyViolation raised inside the aspect reaches Python through jsii as a RuntimeError.
    with pytest.raises(
        RuntimeError, match=r"(?s)policy check failed.*azurerm_cosmosdb_account.*key_vault_key_id"
    ):
        synth_one(weaker)


def test_switched_off_components_leave_resources_and_urls_out(
    dev: StackView, synth_one: Callable[..., str]
) -> None:
    off = replace(
        dev.settings,
        components=replace(
            dev.settings.components, cache=False, queue=False, orchestrator=False, budget=False
        ),
    )
    config = json.loads(synth_one(off, AppSource.load("lean.app:APP")))
    resources = config["resource"]
    for resource_type in (
        "azurerm_redis_cache",
        "azurerm_storage_queue",
        "azurerm_consumption_budget_resource_group",
        "azurerm_key_vault_secret",
    ):
        assert resource_type not in resources
    # Without a queue or workflows only the state-error alert is left (state operations remain).
    log_alerts = resources["azurerm_monitor_scheduled_query_rules_alert_v2"]
    assert [key.split("_")[1] for key in log_alerts] == ["state-errors"]
    (app,) = resources["azurerm_function_app_flex_consumption"].values()
    assert sorted(k for k in app["app_settings"] if k.startswith("STATEKIT_")) == [
        "STATEKIT_APP",
        "STATEKIT_FUNCTION",
        "STATEKIT_STORE_URL",
    ]
    assert {name for name in config["output"] if name.startswith("statekit_")} == {
        "statekit_store_url"
    }
    # Without the orchestrator there is no Durable key to copy: no second apply is asked for.
    assert "copy_durable_key" not in config["output"]["after_first_apply"]["value"]
    assert "copy_durable_key" not in config.get("variable", {})


def test_package_requirements_are_the_tested_pins(dev: StackView) -> None:
    """The function app installs exactly the versions pyproject.toml pins for Azure and the
    Azure Monitor distro (dev: tracing on, the cache off, so no Redis client)."""
    import tomllib

    from modules.common.package import build_root

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    staged = build_root() / "azure-function" / f"{APP}-azure-dev" / "requirements.txt"
    telemetry = set(extras["otel-azure"]) - {"statekit[otel]"} | set(extras["otel"])
    assert set(staged.read_text().split()) == set(extras["azure"]) | telemetry


def test_retention_maps_onto_what_azure_accepts() -> None:
    from modules.azure.observability import insights_retention, workspace_retention

    assert [workspace_retention(d) for d in (1, 30, 400, 731)] == [30, 30, 400, 730]
    assert [insights_retention(d) for d in (7, 30, 365, 400, 545, 731)] == [
        30,
        30,
        365,
        550,
        550,
        730,
    ]
