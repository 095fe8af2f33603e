"""Azure RBAC role assignments, one helper so every grant names its role and exact scope."""

from __future__ import annotations

from collections.abc import Sequence

from cdktn import ITerraformDependable
from cdktn_provider_azurerm.role_assignment import RoleAssignment
from constructs import Construct

# Built-in role names (stable across tenants, unlike their ids' display in the portal).
STORAGE_QUEUE_DATA_CONTRIBUTOR = "Storage Queue Data Contributor"
STORAGE_BLOB_DATA_OWNER = "Storage Blob Data Owner"
STORAGE_TABLE_DATA_CONTRIBUTOR = "Storage Table Data Contributor"
KEY_VAULT_SECRETS_USER = "Key Vault Secrets User"
KEY_VAULT_SECRETS_OFFICER = "Key Vault Secrets Officer"
KEY_VAULT_CRYPTO_OFFICER = "Key Vault Crypto Officer"
KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER = "Key Vault Crypto Service Encryption User"
MONITORING_METRICS_PUBLISHER = "Monitoring Metrics Publisher"


def grant(
    scope: Construct,
    construct_id: str,
    *,
    role: str,
    on: str,
    principal_id: str,
    principal_type: str | None = "ServicePrincipal",
    count: float | None = None,
    depends_on: Sequence[ITerraformDependable] | None = None,
) -> RoleAssignment:
    """Give ``principal_id`` the built-in ``role`` on exactly the resource id ``on``."""
    return RoleAssignment(
        scope,
        construct_id,
        scope=on,
        role_definition_name=role,
        principal_id=principal_id,
        principal_type=principal_type,
        description=f"statekit: {role}",
        count=count,
        depends_on=depends_on,
    )
