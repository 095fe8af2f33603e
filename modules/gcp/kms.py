"""A customer-managed key (Cloud KMS) for encryption at rest, when the settings ask for one.

One regional key ring and key, rotated every 90 days and never destroyed by
Terraform. Each Google service that encrypts with it gets the encrypter/decrypter
role on this key only, through its service agent.
"""

from __future__ import annotations

from cdktn import TerraformResourceLifecycle
from cdktn_provider_google.kms_crypto_key import KmsCryptoKey, KmsCryptoKeyVersionTemplate
from cdktn_provider_google.kms_crypto_key_iam_member import KmsCryptoKeyIamMember
from cdktn_provider_google.kms_key_ring import KmsKeyRing
from constructs import Construct

from .context import GcpContext

ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
ROTATION_PERIOD = f"{90 * 24 * 3600}s"


class DataKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: GcpContext) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        ring = KmsKeyRing(
            self,
            "ring",
            name=ctx.naming.name("keys"),
            location=ctx.region,
            project=ctx.project,
            depends_on=ctx.apis,
        )
        self.key = KmsCryptoKey(
            self,
            "key",
            name="statekit-data",
            key_ring=ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=ROTATION_PERIOD,
            version_template=KmsCryptoKeyVersionTemplate(
                algorithm="GOOGLE_SYMMETRIC_ENCRYPTION", protection_level="HSM"
            ),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True),
        )
        self._granted: dict[str, KmsCryptoKeyIamMember] = {}

    @property
    def id(self) -> str:
        return self.key.id

    def allow(self, service: str, member: str) -> KmsCryptoKeyIamMember:
        """Let ``member`` (a service agent) encrypt and decrypt with this key; once per member."""
        if member not in self._granted:
            self._granted[member] = KmsCryptoKeyIamMember(
                self,
                f"use-{service}",
                crypto_key_id=self.key.id,
                role=ENCRYPTER_DECRYPTER,
                member=member,
            )
        return self._granted[member]
