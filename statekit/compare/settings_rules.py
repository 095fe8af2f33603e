"""The settings that matter, read from each synthesized resource's attributes.

One list of rules per Terraform resource type: (aspect, label, how to read it).
Aspects are the columns people compare: encryption and key, TLS minimum, backups or
point-in-time recovery, dead-letter wiring, consistency, network exposure, plus
capacity and retention. A rule returns None when the attribute is not set, and
the report then shows the provider default it falls back to, never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statekit.compare.tfjson import Resource, Stack, get_path

ASPECTS = (
    "encryption",
    "tls",
    "backup",
    "dead-letter",
    "consistency",
    "network",
    "capacity",
    "retention",
    "wiring",
)
Reader = Callable[[Resource, Stack], Any]


@dataclass(frozen=True)
class Setting:
    aspect: str
    label: str
    value: str
    resource: str  # "<type> <name>", so a reader can find it in cdk.tf.json


def attr(dotted: str, default: str | None = None) -> Reader:
    """The attribute's value; ``default`` (e.g. "provider default: AWS-owned key") if unset."""

    def read(resource: Resource, stack: Stack) -> Any:
        value = resource.get(dotted)
        if value in (None, "", [], {}):
            return default
        return stack.describe(value)

    return read


def flag(dotted: str, on: str, off: str, unset: str | None = None) -> Reader:
    def read(resource: Resource, stack: Stack) -> Any:
        value = resource.get(dotted)
        if value is None:
            return unset
        return on if value in (True, "true", "Enabled", "ENABLED") else off

    return read


def first(*readers: Reader) -> Reader:
    def read(resource: Resource, stack: Stack) -> Any:
        for reader in readers:
            value = reader(resource, stack)
            if value is not None:
                return value
        return None

    return read


def sqs_redrive(resource: Resource, stack: Stack) -> Any:
    """SQS's redrive policy is a JSON string (or a separate aws_sqs_queue_redrive_policy)."""
    raw = resource.get("redrive_policy")
    if raw is None:
        for other in stack.resources:
            if other.type == "aws_sqs_queue_redrive_policy" and resource.logical_id in str(
                other.config.get("queue_url", "")
            ):
                raw = other.config.get("redrive_policy")
    if raw is None:
        return None
    try:
        policy = json.loads(raw) if isinstance(raw, str) and raw.startswith("{") else raw
    except ValueError:
        return stack.describe(raw)
    if isinstance(policy, dict):
        target = stack.describe(policy.get("deadLetterTargetArn", "?"))
        return f"to {target} after {policy.get('maxReceiveCount', '?')} receives"
    return stack.describe(raw)


def sqs_tls(resource: Resource, stack: Stack) -> Any:
    """TLS-only on SQS is a queue policy denying aws:SecureTransport=false."""
    for other in stack.resources:
        if (
            other.type == "aws_sqs_queue_policy"
            and resource.logical_id in str(other.config.get("queue_url", ""))
            and "aws:SecureTransport" in str(other.config.get("policy", ""))
        ):
            return "HTTPS only (queue policy denies aws:SecureTransport=false)"
    return None


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


def pubsub_dead_letter(resource: Resource, stack: Stack) -> Any:
    topic = resource.get("dead_letter_policy.dead_letter_topic")
    if topic is None:
        return None
    attempts = resource.get("dead_letter_policy.max_delivery_attempts") or 5
    return f"to {stack.describe(topic)} after {attempts} deliveries"


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


def lambda_network(resource: Resource, stack: Stack) -> Any:
    if resource.get("vpc_config.subnet_ids"):
        return "in VPC subnets"
    return "AWS-managed network (no VPC)"


def function_urls(resource: Resource, stack: Stack) -> Any:
    """Which STATEKIT_*_URL variables the function receives (names only, never values)."""
    for path in ("environment.variables", "app_settings", "service_config.environment_variables"):
        variables = resource.get(path)
        if isinstance(variables, dict):
            names = sorted(
                k.removeprefix("STATEKIT_").removesuffix("_URL").lower()
                for k in variables
                if k.startswith("STATEKIT_") and k.endswith("_URL")
            )
            return ", ".join(names) if names else "none set"
    return None


def ttl_field(resource: Resource, stack: Stack) -> Any:
    if resource.get("ttl_config") is not None or resource.config.get("ttl_config") == {}:
        return f"TTL on field {resource.config.get('field', '?')}"
    return None


def dynamodb_capacity(resource: Resource, stack: Stack) -> Any:
    mode = resource.get("billing_mode") or "PROVISIONED"
    if mode == "PAY_PER_REQUEST":
        return "on demand"
    return f"provisioned {resource.get('read_capacity')} RCU / {resource.get('write_capacity')} WCU"


RULES: dict[str, list[tuple[str, str, Reader]]] = {
    # --- AWS ---
    "aws_dynamodb_table": [
        (
            "encryption",
            "encryption",
            first(
                lambda r, s: (
                    f"KMS customer key {s.describe(r.get('server_side_encryption.kms_key_arn'))}"
                    if r.get("server_side_encryption.kms_key_arn")
                    else None
                ),
                flag(
                    "server_side_encryption.enabled",
                    "AWS-managed KMS key (aws/dynamodb)",
                    "AWS-owned key",
                ),
                lambda r, s: "provider default: AWS-owned key",
            ),
        ),
        (
            "backup",
            "point-in-time recovery",
            flag("point_in_time_recovery.enabled", "on", "off", "off (default)"),
        ),
        (
            "backup",
            "deletion protection",
            flag("deletion_protection_enabled", "on", "off", "off (default)"),
        ),
        (
            "consistency",
            "reads",
            lambda r, s: "per request: statekit asks for strongly consistent reads",
        ),
        ("network", "endpoint", lambda r, s: "regional public endpoint, IAM auth, TLS"),
        ("capacity", "capacity", dynamodb_capacity),
        ("retention", "TTL", attr("ttl.attribute_name")),
    ],
    "aws_kms_key": [
        (
            "encryption",
            "key rotation",
            flag("enable_key_rotation", "yearly rotation", "no rotation", "no rotation"),
        ),
        ("backup", "deletion window", attr("deletion_window_in_days")),
    ],
    "aws_elasticache_serverless_cache": [
        ("encryption", "encryption at rest", attr("kms_key_id", "always on, AWS-managed key")),
        ("tls", "in transit", lambda r, s: "TLS always on (serverless)"),
        ("backup", "snapshots kept (days)", attr("snapshot_retention_limit", "0")),
        (
            "network",
            "network",
            lambda r, s: "VPC subnets + security groups" if r.get("subnet_ids") else "default VPC",
        ),
        (
            "capacity",
            "engine / limit",
            lambda r, s: (
                f"{r.get('engine')} serverless, "
                + (
                    f"max {r.get('cache_usage_limits.data_storage.maximum')} GB"
                    if r.get("cache_usage_limits.data_storage.maximum")
                    else "no size limit set"
                )
            ),
        ),
    ],
    "aws_elasticache_replication_group": [
        (
            "encryption",
            "encryption at rest",
            first(
                attr("kms_key_id"),
                flag("at_rest_encryption_enabled", "AWS-managed key", "off", "off"),
            ),
        ),
        (
            "tls",
            "in transit",
            flag("transit_encryption_enabled", "TLS required", "no TLS", "no TLS"),
        ),
        ("backup", "snapshots kept (days)", attr("snapshot_retention_limit", "0")),
        (
            "network",
            "network",
            lambda r, s: (
                "VPC subnets + security groups" if r.get("subnet_group_name") else "default VPC"
            ),
        ),
        (
            "capacity",
            "nodes",
            lambda r, s: (
                f"{r.get('num_cache_clusters') or 1} x {r.get('node_type')} ({r.get('engine')})"
            ),
        ),
    ],
    "aws_sqs_queue": [
        (
            "encryption",
            "encryption",
            first(
                lambda r, s: (
                    f"KMS key {s.describe(r.get('kms_master_key_id'))}"
                    if r.get("kms_master_key_id")
                    else None
                ),
                flag(
                    "sqs_managed_sse_enabled",
                    "SQS-managed (SSE-SQS)",
                    "off",
                    "SQS-managed (default since 2022)",
                ),
            ),
        ),
        ("tls", "in transit", sqs_tls),
        ("dead-letter", "dead letters", sqs_redrive),
        (
            "retention",
            "message retention (s)",
            attr("message_retention_seconds", "345600 (default)"),
        ),
    ],
    "aws_sfn_state_machine": [
        ("encryption", "encryption", attr("encryption_configuration.type", "AWS-owned key")),
        ("capacity", "type", attr("type", "STANDARD")),
        ("retention", "execution logs", attr("logging_configuration.level", "OFF")),
    ],
    "aws_lambda_function": [
        ("encryption", "env encryption", attr("kms_key_arn", "AWS-managed key")),
        ("network", "network", lambda_network),
        (
            "capacity",
            "memory / arch",
            lambda r, s: (
                f"{r.get('memory_size')} MB {s.describe(r.get('architectures') or 'x86_64')} {r.get('runtime')}"
            ),
        ),
        ("wiring", "state URLs", function_urls),
    ],
    "aws_cloudwatch_log_group": [
        ("encryption", "encryption", attr("kms_key_id", "CloudWatch-managed")),
        ("retention", "log retention (days)", attr("retention_in_days", "never expires")),
    ],
    "aws_budgets_budget": [
        ("capacity", "budget", lambda r, s: f"{r.get('limit_amount')} {r.get('limit_unit')}/month")
    ],
    # --- Azure ---
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
    # --- Google Cloud ---
    "google_firestore_database": [
        ("encryption", "encryption", attr("cmek_config.kms_key_name", "Google-managed key")),
        (
            "backup",
            "point-in-time recovery",
            attr("point_in_time_recovery_enablement", "POINT_IN_TIME_RECOVERY_DISABLED (default)"),
        ),
        (
            "backup",
            "delete protection",
            attr("delete_protection_state", "DELETE_PROTECTION_DISABLED (default)"),
        ),
        (
            "consistency",
            "consistency",
            lambda r, s: (
                f"strong; concurrency {r.get('concurrency_mode') or 'OPTIMISTIC (default)'}"
            ),
        ),
        ("network", "endpoint", lambda r, s: "Google API endpoint, IAM auth, TLS"),
        ("capacity", "type / location", lambda r, s: f"{r.get('type')} {r.get('location_id')}"),
    ],
    "google_firestore_backup_schedule": [
        ("backup", "scheduled backups", lambda r, s: f"kept {r.get('retention')}")
    ],
    "google_firestore_field": [("retention", "TTL", ttl_field)],
    "google_kms_crypto_key": [
        ("encryption", "key rotation", attr("rotation_period", "no rotation"))
    ],
    "google_redis_instance": [
        ("encryption", "encryption", attr("customer_managed_key", "Google-managed key")),
        ("tls", "in transit", attr("transit_encryption_mode", "DISABLED (default)")),
        (
            "network",
            "network",
            lambda r, s: (
                f"{r.get('connect_mode') or 'DIRECT_PEERING'}; AUTH {'on' if r.get('auth_enabled') else 'off'}"
            ),
        ),
        ("backup", "persistence", attr("persistence_config.persistence_mode", "DISABLED")),
        ("capacity", "tier / size", lambda r, s: f"{r.get('tier')} {r.get('memory_size_gb')} GB"),
    ],
    "google_memorystore_instance": [
        (
            "tls",
            "in transit",
            attr("transit_encryption_mode", "TRANSIT_ENCRYPTION_DISABLED (default)"),
        ),
        ("network", "auth", attr("authorization_mode", "AUTH_DISABLED (default)")),
        ("backup", "persistence", attr("persistence_config.mode", "DISABLED")),
        (
            "capacity",
            "shards / nodes",
            lambda r, s: (
                f"{r.get('shard_count')} shard(s) x {r.get('node_type') or 'default'} +{r.get('replica_count') or 0} replicas"
            ),
        ),
    ],
    "google_secret_manager_secret": [
        (
            "encryption",
            "encryption",
            first(
                attr("replication.user_managed.replicas.customer_managed_encryption.kms_key_name"),
                lambda r, s: "Google-managed key",
            ),
        ),
    ],
    "google_pubsub_topic": [
        ("encryption", "encryption", attr("kms_key_name", "Google-managed key")),
        ("retention", "topic retention", attr("message_retention_duration", "none")),
    ],
    "google_pubsub_subscription": [
        ("dead-letter", "dead letters", pubsub_dead_letter),
        ("retention", "message retention", attr("message_retention_duration", "7 days (default)")),
    ],
    "google_workflows_workflow": [
        ("encryption", "encryption", attr("crypto_key_name", "Google-managed key")),
        ("retention", "call logs", attr("call_log_level", "CALL_LOG_LEVEL_UNSPECIFIED")),
    ],
    "google_cloudfunctions2_function": [
        ("encryption", "encryption", attr("kms_key_name", "Google-managed key")),
        ("network", "ingress", attr("service_config.ingress_settings", "ALLOW_ALL (default)")),
        (
            "network",
            "egress",
            attr("service_config.direct_vpc_egress", "Google-managed network (no VPC)"),
        ),
        ("capacity", "memory", attr("service_config.available_memory")),
        ("wiring", "state URLs", function_urls),
    ],
    "google_logging_project_bucket_config": [
        ("retention", "log retention (days)", attr("retention_days", "30 (default)"))
    ],
}


def settings_of(resource: Resource, stack: Stack) -> list[Setting]:
    """The settings of one resource; types without rules contribute nothing."""
    found = []
    for aspect, label, reader in RULES.get(resource.type, []):
        value = reader(resource, stack)
        if value is not None:
            found.append(Setting(aspect, label, str(value), f"{resource.type} {resource.name}"))
    return found
