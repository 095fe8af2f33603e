"""AWS production policy rules, registered with the common policy aspect at import."""

from __future__ import annotations

from ..common.aspects import (
    Config,
    PolicyRule,
    at_least,
    equals,
    is_set,
    is_true,
    register_rules,
)


def _sqs_encrypted(config: Config) -> bool:
    return is_set("kms_master_key_id")(config) or is_true("sqs_managed_sse_enabled")(config)


register_rules(
    "aws_dynamodb_table",
    [
        PolicyRule(
            "encryption",
            "server_side_encryption with a customer-managed kms_key_arn",
            lambda c: (
                is_true("server_side_encryption.enabled")(c)
                and is_set("server_side_encryption.kms_key_arn")(c)
            ),
        ),
        PolicyRule(
            "backup",
            "point_in_time_recovery.enabled is true",
            is_true("point_in_time_recovery.enabled"),
        ),
        PolicyRule(
            "deletion_protection",
            "deletion_protection_enabled is true",
            is_true("deletion_protection_enabled"),
        ),
    ],
)
register_rules(
    "aws_sqs_queue",
    [
        PolicyRule("encryption", "kms_master_key_id or sqs_managed_sse_enabled", _sqs_encrypted),
    ],
)
register_rules(
    "aws_elasticache_serverless_cache",
    [
        PolicyRule("encryption", "kms_key_id is set", is_set("kms_key_id")),
        PolicyRule(
            "backup", "snapshot_retention_limit >= 1", at_least("snapshot_retention_limit", 1)
        ),
    ],
)
register_rules(
    "aws_elasticache_replication_group",
    [
        PolicyRule(
            "encryption",
            "at_rest_encryption_enabled with kms_key_id",
            lambda c: (
                equals("at_rest_encryption_enabled", True, "true")(c) and is_set("kms_key_id")(c)
            ),
        ),
        PolicyRule(
            "tls",
            "transit_encryption_enabled with transit_encryption_mode 'required'",
            lambda c: (
                is_true("transit_encryption_enabled")(c)
                and equals("transit_encryption_mode", "required")(c)
            ),
        ),
        PolicyRule(
            "backup", "snapshot_retention_limit >= 1", at_least("snapshot_retention_limit", 1)
        ),
    ],
)
register_rules(
    "aws_secretsmanager_secret",
    [
        PolicyRule("encryption", "kms_key_id is set", is_set("kms_key_id")),
        PolicyRule(
            "deletion_protection",
            "recovery_window_in_days >= 7",
            at_least("recovery_window_in_days", 7),
        ),
    ],
)
register_rules(
    "aws_cloudwatch_log_group",
    [
        PolicyRule("encryption", "kms_key_id is set", is_set("kms_key_id")),
    ],
)
register_rules(
    "aws_sns_topic",
    [
        PolicyRule("encryption", "kms_master_key_id is set", is_set("kms_master_key_id")),
    ],
)
register_rules(
    "aws_lambda_function",
    [
        PolicyRule(
            "encryption", "kms_key_arn is set (environment encrypted)", is_set("kms_key_arn")
        ),
    ],
)
register_rules(
    "aws_kms_key",
    [
        PolicyRule("encryption", "enable_key_rotation is true", is_true("enable_key_rotation")),
        PolicyRule(
            "deletion_protection",
            "deletion_window_in_days >= 7",
            at_least("deletion_window_in_days", 7),
        ),
    ],
)
register_rules(
    "aws_sfn_state_machine",
    [
        PolicyRule(
            "encryption",
            "encryption_configuration with a customer-managed key",
            equals("encryption_configuration.type", "CUSTOMER_MANAGED_KMS_KEY"),
        ),
    ],
)
register_rules(
    "aws_sqs_queue_policy",
    [
        PolicyRule(
            "tls",
            "denies requests without aws:SecureTransport",
            lambda c: '"aws:SecureTransport": "false"' in str(c.get("policy", "")),
        ),
    ],
)
