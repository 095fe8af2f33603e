"""Memorystore for Redis: AUTH on, in-transit encryption (SERVER_AUTHENTICATION).

The AUTH string is copied by Terraform into Secret Manager and reaches the function
as a secret environment variable (``STATEKIT_CACHE_PASSWORD``), which the cache URL
names with ``password_env=`` (docs/urls.md); it never appears as a value. The
server's CA certificates (public; all of them, so a CA rotation keeps working) are
given as ``STATEKIT_CACHE_CA_CERT`` so a client can verify the TLS endpoint. Basic tier outside production; Standard (a replica in
another zone, automatic failover) in production or when ``mode = "cluster"``; RDB
snapshots when ``snapshot_retention_days`` is set.
"""

from __future__ import annotations

from cdktn_provider_google.redis_instance import (
    RedisInstance,
    RedisInstanceMaintenancePolicy,
    RedisInstanceMaintenancePolicyWeeklyMaintenanceWindow,
    RedisInstanceMaintenancePolicyWeeklyMaintenanceWindowStartTime,
    RedisInstancePersistenceConfig,
)
from cdktn_provider_google.secret_manager_secret_iam_member import SecretManagerSecretIamMember
from constructs import Construct

from .context import GcpContext
from .kms import DataKey
from .network import PrivateNetwork
from .secrets import StoredSecret

PASSWORD_VARIABLE = "STATEKIT_CACHE_PASSWORD"
CA_CERT_VARIABLE = "STATEKIT_CACHE_CA_CERT"
TLS_PORT = 6378  # Memorystore's port when in-transit encryption is on
REDIS_AGENT = "cloud-redis.iam.gserviceaccount.com"


def all_ca_certificates(redis_fqn: str) -> str:
    """A Terraform expression joining every ``server_ca_certs[*].cert`` of the instance."""
    return f'${{join("\\n", {redis_fqn}.server_ca_certs[*].cert)}}'


class MemorystoreCache(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: GcpContext,
        network: PrivateNetwork,
        key: DataKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        settings = ctx.settings.cache
        standard = ctx.settings.production or settings.mode == "cluster"
        grant = key.allow("redis", ctx.service_agent(REDIS_AGENT)) if key else None
        self.redis = RedisInstance(
            self,
            "redis",
            name=ctx.naming.name("cache", 40),
            project=ctx.project,
            region=ctx.region,
            tier="STANDARD_HA" if standard else "BASIC",
            memory_size_gb=1,
            redis_version="REDIS_7_2",
            authorized_network=network.network.id,
            connect_mode="DIRECT_PEERING",
            auth_enabled=True,
            transit_encryption_mode="SERVER_AUTHENTICATION",
            customer_managed_key=key.id if key else None,
            persistence_config=(
                RedisInstancePersistenceConfig(
                    persistence_mode="RDB", rdb_snapshot_period="TWENTY_FOUR_HOURS"
                )
                if settings.snapshot_retention_days > 0
                else RedisInstancePersistenceConfig(persistence_mode="DISABLED")
            ),
            redis_configs={"maxmemory-policy": "allkeys-lru"},
            maintenance_policy=RedisInstanceMaintenancePolicy(
                weekly_maintenance_window=[
                    RedisInstanceMaintenancePolicyWeeklyMaintenanceWindow(
                        day="SUNDAY",
                        start_time=RedisInstanceMaintenancePolicyWeeklyMaintenanceWindowStartTime(
                            hours=3
                        ),
                    )
                ]
            ),
            deletion_protection=ctx.settings.production,
            depends_on=[*ctx.apis, *([grant] if grant else [])],
        )
        self.password = StoredSecret(
            self,
            "auth",
            ctx,
            name=ctx.naming.name("cache-auth"),
            value=self.redis.auth_string,
            key=key,
        )

    @property
    def url(self) -> str:
        """``rediss://HOST:6378/0?password_env=...&ca_env=...``: no secret in the URL."""
        return (
            f"rediss://{self.redis.host}:{TLS_PORT}/0"
            f"?password_env={PASSWORD_VARIABLE}&ca_env={CA_CERT_VARIABLE}"
        )

    def environment(self) -> dict[str, str]:
        """Every CA certificate of the instance, PEM after PEM: all of them are trusted.

        Memorystore's in-transit encryption doc ("Certificate authority rotation"): during
        a rotation ``serverCaCerts`` lists the old and the new CA, and a client must trust
        both, else TLS breaks when the server switches. Only the first one is not enough.
        """
        return {CA_CERT_VARIABLE: all_ca_certificates(self.redis.fqn)}

    def grant_access(self, member: str) -> SecretManagerSecretIamMember:
        return self.password.allow_read(member)
