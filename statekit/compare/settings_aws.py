"""Settings rules for AWS resource types: (aspect, label, reader) per Terraform type."""

from __future__ import annotations

import json
from typing import Any

from statekit.compare.settings_readers import (
    Reader,
    attr,
    first,
    flag,
    function_urls,
)
from statekit.compare.tfjson import Resource, Stack


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


def lambda_network(resource: Resource, stack: Stack) -> Any:
    if resource.get("vpc_config.subnet_ids"):
        return "in VPC subnets"
    return "AWS-managed network (no VPC)"


def dynamodb_capacity(resource: Resource, stack: Stack) -> Any:
    mode = resource.get("billing_mode") or "PROVISIONED"
    if mode == "PAY_PER_REQUEST":
        return "on demand"
    return f"provisioned {resource.get('read_capacity')} RCU / {resource.get('write_capacity')} WCU"


AWS_RULES: dict[str, list[tuple[str, str, Reader]]] = {
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
}
