"""Settings rules for Google Cloud resource types: (aspect, label, reader) per Terraform type."""

from __future__ import annotations

from typing import Any

from statekit.compare.settings_readers import (
    Reader,
    attr,
    first,
    function_urls,
)
from statekit.compare.tfjson import Resource, Stack


def pubsub_dead_letter(resource: Resource, stack: Stack) -> Any:
    topic = resource.get("dead_letter_policy.dead_letter_topic")
    if topic is None:
        return None
    attempts = resource.get("dead_letter_policy.max_delivery_attempts") or 5
    return f"to {stack.describe(topic)} after {attempts} deliveries"


def ttl_field(resource: Resource, stack: Stack) -> Any:
    if resource.get("ttl_config") is not None or resource.config.get("ttl_config") == {}:
        return f"TTL on field {resource.config.get('field', '?')}"
    return None


GCP_RULES: dict[str, list[tuple[str, str, Reader]]] = {
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
