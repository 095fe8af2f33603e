"""The create-time rules behind issue 16's Azure findings, checked on the synthesized JSON.

Each test cites the documented rule it encodes: these are what a real ``terraform
apply`` on a fresh subscription would reject, and no emulator takes an Azure apply.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.iac.azure_gcp_support import ENVS, StackView
from tests.iac.conftest import Synthesized


@pytest.fixture(params=ENVS)
def stack(request: pytest.FixtureRequest, synthesized: Synthesized) -> StackView:
    return StackView(synthesized, "azure", request.param)


@pytest.fixture
def prod(synthesized: Synthesized) -> StackView:
    return StackView(synthesized, "azure", "prod")


def the_app(stack: StackView) -> dict[str, Any]:
    return stack.one("azurerm_function_app_flex_consumption")


def test_budget_starts_on_the_first_of_the_current_month(stack: StackView) -> None:
    # Consumption API, BudgetTimePeriod.startDate: "Must be first of the month ... Past
    # start date should be selected within the timegrain period" (a monthly budget: this
    # month). azurerm replaces the budget when start_date changes, so it is set once.
    budget = stack.one("azurerm_consumption_budget_resource_group")
    assert budget["time_grain"] == "Monthly"
    today = datetime.now(UTC).date()
    assert budget["time_period"]["start_date"] == f"{today:%Y-%m}-01T00:00:00Z"
    assert budget["lifecycle"]["ignore_changes"] == ["time_period"]


def test_budget_start_is_computed_from_the_date() -> None:
    from modules.azure.observability import budget_start

    assert budget_start(date(2027, 3, 17)) == "2027-03-01T00:00:00Z"
    assert budget_start(date(2026, 12, 31)) == "2026-12-01T00:00:00Z"


def test_flex_consumption_app_has_no_zip_deploy(stack: StackView) -> None:
    # Azure Functions, "Zip deployment": "The Flex Consumption plan doesn't support zip
    # deployment"; Flex deploys through One Deploy into its deployment container.
    app = the_app(stack)
    assert "zip_deploy_file" not in app
    assert "WEBSITE_RUN_FROM_PACKAGE" not in app["app_settings"]  # "Don't set" on Flex
    assert app["storage_container_type"] == "blobContainer"


def test_deployment_path_installs_the_dependencies(stack: StackView) -> None:
    # Package-based deployment: without a remote build the package must already carry
    # its dependencies; code_deploy.py installs them into .python_packages and publishes
    # with --build-remote false, then restarts. The stack tells the operator to run it.
    from modules.azure.code_deploy import SITE_PACKAGES, publish_commands

    steps = stack.config["output"]["after_first_apply"]["value"]
    assert f"python -m modules.azure.code_deploy {stack.env}" in steps
    assert {"resource_group_name", "function_app_name"} <= set(stack.config["output"])
    deploy, restart = publish_commands(stack.synthesized.outdir / "pkg.zip", "rg", "app")
    assert deploy[:5] == ["az", "functionapp", "deployment", "source", "config-zip"]
    assert deploy[-2:] == ["--build-remote", "false"]
    assert restart[:3] == ["az", "functionapp", "restart"]
    assert SITE_PACKAGES.as_posix() == ".python_packages/lib/site-packages"


def test_prod_http_api_requires_an_entra_token(prod: StackView) -> None:
    # App Service authentication: require_authentication with unauthenticated_action
    # Return401 rejects every request without a valid token before the function runs
    # (the function itself is AuthLevel.ANONYMOUS). Only the Durable webhook, guarded by
    # the extension's system key, is excluded.
    auth = the_app(prod)["auth_settings_v2"]
    assert auth["auth_enabled"] is True
    assert auth["require_authentication"] is True
    assert auth["unauthenticated_action"] == "Return401"
    assert auth["excluded_paths"] == ["/runtime/webhooks/durabletask"]
    entra = auth["active_directory_v2"]
    assert entra["client_id"] == "${var.api_client_id}"
    assert entra["tenant_auth_endpoint"].startswith("https://login.microsoftonline.com/")
    assert prod.config["variable"]["api_client_id"]["nullable"] is False


def test_key_vault_references_wait_for_their_grants(prod: StackView) -> None:
    # Key Vault references resolve with the app's identity, which exists only with the
    # app: the read grants come after it, so the references resolve on the restart that
    # code_deploy.py does after publishing (the step the stack's output names).
    grants = prod.resources("azurerm_role_assignment")
    secret_readers = [
        g for g in grants.values() if g["role_definition_name"] == "Key Vault Secrets User"
    ]
    assert secret_readers
    for grant in secret_readers:
        assert "azurerm_function_app_flex_consumption" in grant["principal_id"]
    assert "restart" in prod.config["output"]["after_first_apply"]["value"]


def test_durable_key_is_copied_only_once_the_host_can_have_it(stack: StackView) -> None:
    # The durabletask_extension system key is created by the host once it starts with the
    # Durable extension (after the code is deployed): the first apply must not read the
    # host keys of an app without code. The copy waits for copy_durable_key = true, the
    # platform-forced second apply that the stack's output names, then a restart.
    variable = stack.config["variable"]["copy_durable_key"]
    assert variable["type"] == "bool" and variable["default"] is False
    gate = "${var.copy_durable_key ? 1 : 0}"
    (keys,) = stack.config["data"]["azurerm_function_app_host_keys"].values()
    assert keys["count"] == gate
    (durable,) = [
        s
        for s in stack.resources("azurerm_key_vault_secret").values()
        if s["name"] == "durable-extension-key"
    ]
    assert durable["count"] == gate
    assert "[0].durabletask_extension_key}" in durable["value"]
    (reader,) = [
        g
        for g in stack.resources("azurerm_role_assignment").values()
        if g["scope"].endswith("/secrets/durable-extension-key")
    ]
    assert reader["count"] == gate
    steps = stack.config["output"]["after_first_apply"]["value"]
    assert "terraform apply -var copy_durable_key=true" in steps
    assert steps.index("code_deploy") < steps.index("copy_durable_key") < steps.index("restart --")


def test_cosmos_db_is_zone_redundant_in_prod(stack: StackView) -> None:
    # Cosmos DB: zone redundancy is chosen when a region is added to the account and
    # cannot be changed afterwards; serverless accounts do not support it.
    (location,) = stack.one("azurerm_cosmosdb_account")["geo_location"]
    assert location.get("zone_redundant", False) is (stack.env == "prod")


def caches(synthesized: Synthesized) -> list[tuple[StackView, dict[str, Any]]]:
    """Each stack's Redis cache (dev has the cache off: it has none, and says so)."""
    found = []
    for env in ENVS:
        view = StackView(synthesized, "azure", env)
        redis = view.resources("azurerm_redis_cache")
        assert len(redis) == int(view.settings.components.cache), view.name
        found += [(view, r) for r in redis.values()]
    assert found
    return found


def test_redis_is_zone_redundant_in_prod(synthesized: Synthesized) -> None:
    # Azure Cache for Redis: zones are a Premium feature; the primary and each replica go
    # to a different zone of the ones listed.
    for view, redis in caches(synthesized):
        if view.env == "prod":
            assert redis["sku_name"] == "Premium"
            assert len(redis["zones"]) == redis["replicas_per_primary"] + 1 >= 2
        else:
            assert "zones" not in redis, view.name


def test_redis_is_entra_only_for_the_cache_identity(synthesized: Synthesized) -> None:
    # Azure Cache for Redis, "Use Microsoft Entra ID for cache authentication": the
    # setting plus an access policy assignment for the identity; with both, access keys
    # go off (azurerm: access_keys_authentication_enabled = false needs
    # active_directory_authentication_enabled = true). The identity is user-assigned and
    # exists before the app: the app's own identity cannot appear in its settings.
    for view, redis in caches(synthesized):
        assert redis["redis_configuration"]["active_directory_authentication_enabled"] is True
        assert redis["access_keys_authentication_enabled"] is False
        assignment = view.one("azurerm_redis_cache_access_policy_assignment")
        assert assignment["access_policy_name"] == "Data Contributor"
        assert re.fullmatch(
            r"\$\{azurerm_user_assigned_identity\.cache_identity_\w+\.principal_id\}",
            assignment["object_id"],
        ), assignment["object_id"]
