"""Settings rules for Azure resource types: (aspect, label, reader) per Terraform type."""

from __future__ import annotations

from typing import Any

from statekit.compare.settings_readers import (
    Reader,
    attr,
    first,
    flag,
    function_urls,
)
from statekit.compare.tfjson import Resource, Stack, get_path


def poison_queue(resource: Resource, stack: Stack) -> Any:
    """Azure Queue Storage has no redrive: statekit moves dead letters to ``<queue>-poison``."""
    name = str(resource.config.get("name", ""))
    if name.endswith("-poison"):
        return "this is the poison (dead-letter) queue"
    names = {
        str(r.config.get("name", "")) for r in stack.resources if r.type == "azurerm_storage_queue"
    }
    return (
        f"to {name}-poison (statekit convention)"
        if f"{name}-poison" in names
        else "no poison queue in stack"
    )


def cosmos_backup(resource: Resource, stack: Stack) -> Any:
    kind = resource.get("backup.type")
    if kind is None:
        return "provider default: periodic, 2 copies"
    tier = resource.get("backup.tier")
    if kind == "Continuous":
        return f"continuous point-in-time restore ({tier or 'Continuous30Days'})"
    hours = resource.get("backup.interval_in_minutes")
    return f"periodic{f' every {hours} min' if hours else ''}, no point-in-time restore"


def cosmos_serverless(resource: Resource, stack: Stack) -> Any:
    capabilities = resource.config.get("capabilities") or []
    names = [get_path(item, "name") for item in capabilities if isinstance(item, dict)]
    return "serverless" if "EnableServerless" in names else "provisioned throughput"


def cosmos_network(resource: Resource, stack: Stack) -> Any:
    public = resource.get("public_network_access_enabled")
    local_auth = (
        resource.get("local_authentication_disabled")
        or resource.get("local_authentication_enabled") is False
    )
    parts = [
        "public endpoint"
        if public in (None, True)
        else "no public endpoint (private endpoint only)"
    ]
    parts.append("keys disabled, Entra ID only" if local_auth else "account keys enabled")
    return "; ".join(parts)


AZURE_RULES: dict[str, list[tuple[str, str, Reader]]] = {
    "azurerm_cosmosdb_account": [
        ("encryption", "encryption", attr("key_vault_key_id", "Microsoft-managed key")),
        ("tls", "TLS minimum", attr("minimal_tls_version", "Tls12 (default)")),
        ("backup", "backup", cosmos_backup),
        ("consistency", "consistency", attr("consistency_policy.consistency_level")),
        ("network", "network", cosmos_network),
        ("capacity", "capacity", cosmos_serverless),
    ],
    "azurerm_cosmosdb_sql_container": [
        (
            "retention",
            "TTL",
            lambda r, s: {None: "off", -1: "on, per item (no default)"}.get(
                r.get("default_ttl"), f"default {r.get('default_ttl')} s"
            ),
        ),
        (
            "capacity",
            "throughput",
            first(attr("autoscale_settings.max_throughput"), attr("throughput")),
        ),
    ],
    "azurerm_management_lock": [
        ("backup", "deletion protection", lambda r, s: f"resource lock {r.get('lock_level')}"),
    ],
    "azurerm_key_vault": [
        ("backup", "purge protection", flag("purge_protection_enabled", "on", "off", "off")),
        (
            "network",
            "network",
            flag(
                "public_network_access_enabled",
                "public endpoint",
                "no public endpoint",
                "public endpoint",
            ),
        ),
    ],
    "azurerm_key_vault_key": [
        ("encryption", "key", lambda r, s: f"{r.get('key_type')} {r.get('key_size') or ''}".strip())
    ],
    "azurerm_redis_cache": [
        ("tls", "TLS minimum", attr("minimum_tls_version", "1.2 (default)")),
        ("tls", "non-TLS port", flag("non_ssl_port_enabled", "open", "closed", "closed")),
        (
            "network",
            "network",
            flag(
                "public_network_access_enabled",
                "public endpoint",
                "no public endpoint",
                "public endpoint",
            ),
        ),
        (
            "backup",
            "RDB backups",
            flag("redis_configuration.rdb_backup_enabled", "on", "off", "off"),
        ),
        (
            "capacity",
            "SKU",
            lambda r, s: f"{r.get('sku_name')} {r.get('family')}{r.get('capacity')}",
        ),
    ],
    "azurerm_managed_redis": [
        (
            "encryption",
            "encryption",
            attr("customer_managed_key.key_vault_key_id", "Microsoft-managed key"),
        ),
        ("tls", "client protocol", attr("default_database.client_protocol", "Encrypted (default)")),
        (
            "backup",
            "persistence",
            first(
                attr("default_database.persistence_redis_database_backup_frequency"),
                attr("default_database.persistence_append_only_file_backup_frequency"),
            ),
        ),
        ("capacity", "SKU", attr("sku_name")),
    ],
    "azurerm_storage_account": [
        (
            "encryption",
            "encryption",
            first(
                attr("customer_managed_key.key_vault_key_id"), lambda r, s: "Microsoft-managed key"
            ),
        ),
        ("tls", "TLS minimum", attr("min_tls_version", "TLS1_2 (default)")),
        (
            "network",
            "network",
            lambda r, s: (
                (
                    "public endpoint"
                    if r.get("public_network_access_enabled") in (None, True)
                    else "no public endpoint"
                )
                + (
                    "; shared keys off"
                    if r.get("shared_access_key_enabled") is False
                    else "; shared keys on"
                )
            ),
        ),
        ("backup", "replication", attr("account_replication_type")),
    ],
    "azurerm_storage_queue": [("dead-letter", "dead letters", poison_queue)],
    "azurerm_linux_function_app": [
        ("tls", "TLS minimum", attr("site_config.minimum_tls_version", "1.2 (default)")),
        (
            "network",
            "network",
            lambda r, s: (
                ("HTTPS only" if r.get("https_only") else "HTTP allowed")
                + (
                    "; public"
                    if r.get("public_network_access_enabled") in (None, True)
                    else "; no public endpoint"
                )
            ),
        ),
        ("wiring", "state URLs", function_urls),
    ],
    "azurerm_function_app_flex_consumption": [
        ("tls", "TLS minimum", attr("site_config.minimum_tls_version", "1.2 (default)")),
        (
            "network",
            "network",
            lambda r, s: "HTTPS only" if r.get("https_only") else "HTTP allowed",
        ),
        ("capacity", "memory", attr("instance_memory_in_mb")),
        ("wiring", "state URLs", function_urls),
    ],
    "azurerm_service_plan": [("capacity", "plan", attr("sku_name"))],
    "azurerm_log_analytics_workspace": [
        ("retention", "log retention (days)", attr("retention_in_days", "30 (default)"))
    ],
    "azurerm_application_insights": [
        ("retention", "retention (days)", attr("retention_in_days", "90 (default)"))
    ],
}
