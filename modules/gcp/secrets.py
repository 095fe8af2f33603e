"""Secret Manager: a secret whose value comes from another resource's attribute (a
reference in the synthesized JSON, never a literal), readable by exactly one member."""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_google.secret_manager_secret import (
    SecretManagerSecret,
    SecretManagerSecretReplication,
    SecretManagerSecretReplicationUserManaged,
    SecretManagerSecretReplicationUserManagedReplicas,
    SecretManagerSecretReplicationUserManagedReplicasCustomerManagedEncryption,
)
from cdktn_provider_google.secret_manager_secret_iam_member import SecretManagerSecretIamMember
from cdktn_provider_google.secret_manager_secret_version import SecretManagerSecretVersion
from constructs import Construct

from .context import GcpContext
from .kms import DataKey

SECRET_MANAGER_AGENT = "gcp-sa-secretmanager.iam.gserviceaccount.com"


class StoredSecret(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: GcpContext,
        *,
        name: str,
        value: str,
        key: DataKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        grants: list[ITerraformDependable] = (
            [key.allow("secretmanager", ctx.service_agent(SECRET_MANAGER_AGENT))] if key else []
        )
        self.secret = SecretManagerSecret(
            self,
            "secret",
            secret_id=name,
            project=ctx.project,
            # One replica in the stack's region: the data stays where the rest of the stack is,
            # and a customer-managed key (regional) can encrypt it.
            replication=SecretManagerSecretReplication(
                user_managed=SecretManagerSecretReplicationUserManaged(
                    replicas=[
                        SecretManagerSecretReplicationUserManagedReplicas(
                            location=ctx.region,
                            customer_managed_encryption=(
                                SecretManagerSecretReplicationUserManagedReplicasCustomerManagedEncryption(
                                    kms_key_name=key.id
                                )
                                if key
                                else None
                            ),
                        )
                    ]
                )
            ),
            depends_on=[*ctx.apis, *grants],
        )
        self.version = SecretManagerSecretVersion(
            self, "version", secret=self.secret.id, secret_data=value
        )

    @property
    def secret_id(self) -> str:
        return self.secret.secret_id

    def allow_read(self, member: str) -> SecretManagerSecretIamMember:
        return SecretManagerSecretIamMember(
            self,
            "reader",
            project=self.ctx.project,
            secret_id=self.secret.secret_id,
            role="roles/secretmanager.secretAccessor",
            member=member,
        )
