"""Key Vault: RBAC authorization, purge protection in prod, and the stack's secrets and keys.

Secrets are written by Terraform from other resources' attributes (a reference in
the synthesized JSON, never a literal) and reach the function as a Key Vault
reference app setting, ``@Microsoft.KeyVault(SecretUri=...)``, which the platform
resolves with the function's managed identity. The secret URI is versionless and
built from the vault URI and the secret's name, so an app setting can name a
secret whose value comes from the function app itself without a dependency cycle.
"""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_azurerm.key_vault import KeyVault, KeyVaultNetworkAcls
from cdktn_provider_azurerm.key_vault_key import (
    KeyVaultKey,
    KeyVaultKeyRotationPolicy,
    KeyVaultKeyRotationPolicyAutomatic,
)
from cdktn_provider_azurerm.key_vault_secret import KeyVaultSecret
from cdktn_provider_azurerm.role_assignment import RoleAssignment
from cdktn_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

from . import roles
from .context import AzureContext
from .network import PrivateNetwork


class Vault(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, ctx: AzureContext, network: PrivateNetwork | None
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        production = ctx.settings.production
        self.vault = KeyVault(
            self,
            "vault",
            name=ctx.naming.compact("kv", 24),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
            tenant_id=ctx.tenant_id,
            # premium: HSM-backed keys for customer-managed encryption.
            sku_name="premium" if ctx.settings.database.customer_managed_key else "standard",
            rbac_authorization_enabled=True,
            purge_protection_enabled=production,
            soft_delete_retention_days=90 if production else 7,
            public_network_access_enabled=not ctx.private,
            network_acls=KeyVaultNetworkAcls(
                bypass="AzureServices", default_action="Deny" if ctx.private else "Allow"
            ),
        )
        if network is not None:
            network.connect("kv", self.vault.id, "vault")
        # Terraform writes secrets and keys through the data plane: the deployer needs the
        # officer roles on this vault only (RBAC, no access policies).
        self._deployer_grants: list[ITerraformDependable] = [
            roles.grant(
                self,
                "deployer-secrets",
                role=roles.KEY_VAULT_SECRETS_OFFICER,
                on=self.vault.id,
                principal_id=ctx.deployer_object_id,
                principal_type=None,
            )
        ]
        self.encryption_key: KeyVaultKey | None = None
        self.encryption_identity: UserAssignedIdentity | None = None
        self.encryption_grant: RoleAssignment | None = None
        if ctx.settings.database.customer_managed_key:
            self._customer_managed_key()

    def _customer_managed_key(self) -> None:
        """An HSM key rotated yearly, usable by one user-assigned identity for encryption at rest."""
        ctx = self.ctx
        self._deployer_grants.append(
            roles.grant(
                self,
                "deployer-keys",
                role=roles.KEY_VAULT_CRYPTO_OFFICER,
                on=self.vault.id,
                principal_id=ctx.deployer_object_id,
                principal_type=None,
            )
        )
        self.encryption_identity = UserAssignedIdentity(
            self,
            "encryption-identity",
            name=ctx.naming.name("encryption"),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
        )
        self.encryption_key = KeyVaultKey(
            self,
            "encryption-key",
            name="statekit-data",
            key_vault_id=self.vault.id,
            key_type="RSA-HSM",
            key_size=3072,
            key_opts=["wrapKey", "unwrapKey"],
            rotation_policy=KeyVaultKeyRotationPolicy(
                expire_after="P1Y",
                notify_before_expiry="P30D",
                automatic=KeyVaultKeyRotationPolicyAutomatic(time_before_expiry="P60D"),
            ),
            depends_on=self._deployer_grants,
        )
        # Scoped to the key (its ARM id, so this waits for the key); whatever encrypts with
        # the key depends on this grant, or its creation fails on a key it cannot read.
        self.encryption_grant = roles.grant(
            self,
            "encryption-identity-key",
            role=roles.KEY_VAULT_CRYPTO_SERVICE_ENCRYPTION_USER,
            on=self.encryption_key.resource_versionless_id,
            principal_id=self.encryption_identity.principal_id,
        )

    def encryption_dependencies(self) -> list[ITerraformDependable]:
        """What a resource encrypted with the customer-managed key must be created after."""
        return [self.encryption_grant] if self.encryption_grant is not None else []

    def secret(self, construct_id: str, name: str, value: str, content_type: str) -> KeyVaultSecret:
        """Store ``value`` (a Terraform reference to another resource's attribute) as ``name``."""
        return KeyVaultSecret(
            self,
            construct_id,
            name=name,
            key_vault_id=self.vault.id,
            value=value,
            content_type=content_type,
            depends_on=self._deployer_grants,
        )

    def reference(self, name: str) -> str:
        """The app-setting value that makes the platform fetch secret ``name`` (latest version)."""
        return f"@Microsoft.KeyVault(SecretUri={self.vault.vault_uri}secrets/{name}/)"

    def grant_secret_read(
        self, construct_id: str, secret: KeyVaultSecret, principal_id: str
    ) -> None:
        """Read access to one secret only (RBAC scope is the secret, not the vault)."""
        roles.grant(
            self,
            construct_id,
            role=roles.KEY_VAULT_SECRETS_USER,
            # The secret's name attribute (a reference) orders this after the secret exists.
            on=f"{self.vault.id}/secrets/{secret.name}",
            principal_id=principal_id,
        )
