"""Production policy rules for the google resource types this stack creates.

Registered with the common policy aspect at import; in a production stack every
resource of these types must pass, or synthesis fails naming the resource.
"""

from __future__ import annotations

from ..common.aspects import PolicyRule, equals, is_set, is_true, register_rules


def register() -> None:
    register_rules(
        "google_firestore_database",
        [
            PolicyRule(
                "encryption", "cmek_config.kms_key_name is set", is_set("cmek_config.kms_key_name")
            ),
            PolicyRule(
                "backup",
                "point_in_time_recovery_enablement is POINT_IN_TIME_RECOVERY_ENABLED",
                equals("point_in_time_recovery_enablement", "POINT_IN_TIME_RECOVERY_ENABLED"),
            ),
            PolicyRule(
                "deletion_protection",
                "delete_protection_state is DELETE_PROTECTION_ENABLED",
                equals("delete_protection_state", "DELETE_PROTECTION_ENABLED"),
            ),
        ],
    )
    register_rules(
        "google_redis_instance",
        [
            PolicyRule(
                "tls",
                "transit_encryption_mode is SERVER_AUTHENTICATION",
                equals("transit_encryption_mode", "SERVER_AUTHENTICATION"),
            ),
            PolicyRule("encryption", "auth_enabled is true", is_true("auth_enabled")),
            PolicyRule("encryption", "customer_managed_key is set", is_set("customer_managed_key")),
            PolicyRule(
                "deletion_protection", "deletion_protection is true", is_true("deletion_protection")
            ),
            PolicyRule(
                "backup",
                "persistence_config.persistence_mode is RDB",
                equals("persistence_config.persistence_mode", "RDB"),
            ),
        ],
    )
    register_rules(
        "google_pubsub_topic",
        [PolicyRule("encryption", "kms_key_name is set", is_set("kms_key_name"))],
    )
    register_rules(
        "google_storage_bucket",
        [
            PolicyRule(
                "encryption",
                "encryption.default_kms_key_name is set",
                is_set("encryption.default_kms_key_name"),
            ),
            PolicyRule("backup", "versioning.enabled is true", is_true("versioning.enabled")),
            PolicyRule(
                "encryption",
                "public_access_prevention is enforced",
                equals("public_access_prevention", "enforced"),
            ),
        ],
    )
    register_rules(
        "google_secret_manager_secret",
        [
            PolicyRule(
                "encryption",
                "replication.user_managed.replicas.customer_managed_encryption.kms_key_name is set",
                is_set(
                    "replication.user_managed.replicas.customer_managed_encryption.kms_key_name"
                ),
            )
        ],
    )
    register_rules(
        "google_workflows_workflow",
        [
            PolicyRule("encryption", "crypto_key_name is set", is_set("crypto_key_name")),
            PolicyRule(
                "deletion_protection", "deletion_protection is true", is_true("deletion_protection")
            ),
        ],
    )
    register_rules(
        "google_kms_crypto_key",
        [
            PolicyRule(
                "deletion_protection",
                "lifecycle.prevent_destroy is true",
                is_true("lifecycle.prevent_destroy"),
            )
        ],
    )
