"""One secure storage account definition for the queue account and the function host account."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import ITerraformDependable, TerraformResourceLifecycle
from cdktn_provider_azurerm.storage_account import (
    StorageAccount,
    StorageAccountBlobProperties,
    StorageAccountBlobPropertiesContainerDeleteRetentionPolicy,
    StorageAccountBlobPropertiesDeleteRetentionPolicy,
    StorageAccountCustomerManagedKey,
    StorageAccountIdentity,
    StorageAccountNetworkRules,
    StorageAccountSasPolicy,
)
from constructs import Construct

from .context import AzureContext
from .vault import Vault


@dataclass(frozen=True)
class CustomerKey:
    key_id: str  # the key's versionless (data-plane) id
    identity_id: str  # the user-assigned identity that may use it
    after: list[ITerraformDependable]  # the grant that lets the identity use the key


def encryption_of(vault: Vault) -> CustomerKey | None:
    """The customer-managed key for ``secure_storage_account``, when the stack uses one."""
    if vault.encryption_key is None or vault.encryption_identity is None:
        return None
    return CustomerKey(
        vault.encryption_key.versionless_id,
        vault.encryption_identity.id,
        vault.encryption_dependencies(),
    )


def secure_storage_account(
    scope: Construct,
    construct_id: str,
    ctx: AzureContext,
    component: str,
    encryption: CustomerKey | None = None,
) -> StorageAccount:
    """StorageV2, TLS 1.2, HTTPS only, no shared key, no public blobs, soft delete on.

    ``encryption``: the customer-managed key, when the stack uses one. Geo- and zone-redundant (GZRS) in production, locally
    redundant elsewhere.
    """
    production = ctx.settings.production
    retention_days = 30 if production else 7
    key_id = encryption.key_id if encryption else None
    identity_id = encryption.identity_id if encryption else None
    return StorageAccount(
        scope,
        construct_id,
        name=ctx.naming.compact(component, 24),
        location=ctx.location,
        resource_group_name=ctx.resource_group_name,
        account_tier="Standard",
        account_kind="StorageV2",
        account_replication_type="GZRS" if production else "LRS",
        min_tls_version="TLS1_2",
        https_traffic_only_enabled=True,
        shared_access_key_enabled=False,
        default_to_oauth_authentication=True,
        allow_nested_items_to_be_public=False,
        cross_tenant_replication_enabled=False,
        local_user_enabled=False,
        infrastructure_encryption_enabled=True,
        public_network_access_enabled=not ctx.private,
        network_rules=StorageAccountNetworkRules(
            default_action="Deny" if ctx.private else "Allow", bypass=["AzureServices"]
        ),
        sas_policy=StorageAccountSasPolicy(expiration_period="01.00:00:00"),
        blob_properties=StorageAccountBlobProperties(
            delete_retention_policy=StorageAccountBlobPropertiesDeleteRetentionPolicy(
                days=retention_days
            ),
            container_delete_retention_policy=(
                StorageAccountBlobPropertiesContainerDeleteRetentionPolicy(days=retention_days)
            ),
        ),
        identity=(
            StorageAccountIdentity(type="UserAssigned", identity_ids=[identity_id])
            if identity_id
            else None
        ),
        customer_managed_key=(
            StorageAccountCustomerManagedKey(
                key_vault_key_id=key_id, user_assigned_identity_id=identity_id
            )
            if key_id and identity_id
            else None
        ),
        # "Account": queues and tables use the account's (customer-managed) key too.
        queue_encryption_key_type="Account" if key_id else None,
        table_encryption_key_type="Account" if key_id else None,
        lifecycle=TerraformResourceLifecycle(
            prevent_destroy=ctx.settings.database.deletion_protection
        ),
        depends_on=encryption.after if encryption else None,
    )
