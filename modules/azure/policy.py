"""Production policy rules for the azurerm resource types this stack creates.

Registered with the common policy aspect at import; in a production stack every
resource of these types must pass, or synthesis fails naming the resource.
"""

from __future__ import annotations

from ..common.aspects import PolicyRule, equals, is_set, is_true, register_rules

PREVENT_DESTROY = PolicyRule(
    "deletion_protection", "lifecycle.prevent_destroy is true", is_true("lifecycle.prevent_destroy")
)


def register() -> None:
    register_rules(
        "azurerm_cosmosdb_account",
        [
            PolicyRule(
                "encryption",
                "key_vault_key_id (customer-managed key) is set",
                is_set("key_vault_key_id"),
            ),
            PolicyRule(
                "tls", "minimal_tls_version is Tls12", equals("minimal_tls_version", "Tls12")
            ),
            PolicyRule("backup", "backup.type is Continuous", equals("backup.type", "Continuous")),
            PREVENT_DESTROY,
        ],
    )
    register_rules(
        "azurerm_redis_cache",
        [
            PolicyRule("tls", "minimum_tls_version is 1.2", equals("minimum_tls_version", "1.2")),
            PolicyRule(
                "tls", "non_ssl_port_enabled is false", equals("non_ssl_port_enabled", False)
            ),
        ],
    )
    register_rules(
        "azurerm_storage_account",
        [
            PolicyRule("tls", "min_tls_version is TLS1_2", equals("min_tls_version", "TLS1_2")),
            PolicyRule(
                "tls", "https_traffic_only_enabled is true", is_true("https_traffic_only_enabled")
            ),
            PolicyRule(
                "encryption",
                "customer_managed_key.key_vault_key_id is set",
                is_set("customer_managed_key.key_vault_key_id"),
            ),
            PolicyRule(
                "backup",
                "blob_properties.delete_retention_policy.days is set",
                is_set("blob_properties.delete_retention_policy.days"),
            ),
            PREVENT_DESTROY,
        ],
    )
    register_rules(
        "azurerm_key_vault",
        [
            PolicyRule(
                "deletion_protection",
                "purge_protection_enabled is true",
                is_true("purge_protection_enabled"),
            ),
            PolicyRule(
                "backup", "soft_delete_retention_days is set", is_set("soft_delete_retention_days")
            ),
        ],
    )
    register_rules(
        "azurerm_function_app_flex_consumption",
        [
            PolicyRule("tls", "https_only is true", is_true("https_only")),
            PolicyRule(
                "tls",
                "site_config.minimum_tls_version is 1.2",
                equals("site_config.minimum_tls_version", "1.2"),
            ),
        ],
    )
