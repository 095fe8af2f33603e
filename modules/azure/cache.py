"""Azure Cache for Redis: TLS 1.2 minimum, the non-TLS port off, the access key in Key Vault.

The function reads the key from the ``STATEKIT_CACHE_PASSWORD`` app setting, whose
value is a Key Vault reference (never the key itself); the cache URL names that
variable with ``password_env=`` (docs/urls.md). Standard C1 outside production;
Premium P1 with replicas in production or when ``mode = "cluster"``; in production the
primary and its replicas are spread over availability zones (``zones``).
"""

from __future__ import annotations

from cdktn_provider_azurerm.key_vault_secret import KeyVaultSecret
from cdktn_provider_azurerm.redis_cache import RedisCache, RedisCacheRedisConfiguration
from cdktn_provider_azurerm.redis_cache_access_policy_assignment import (
    RedisCacheAccessPolicyAssignment,
)
from constructs import Construct

from .context import AzureContext
from .network import PrivateNetwork
from .vault import Vault

PASSWORD_SETTING = "STATEKIT_CACHE_PASSWORD"
PASSWORD_SECRET = "cache-access-key"
TLS_PORT = 6380
AVAILABILITY_ZONES = ("1", "2", "3")


def redis_zones(replicas: int) -> list[str]:
    """One zone per node (primary + replicas), at most the region's three zones."""
    return list(AVAILABILITY_ZONES[: min(replicas + 1, len(AVAILABILITY_ZONES))])


class RedisCacheComponent(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: AzureContext,
        vault: Vault,
        network: PrivateNetwork | None,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = ctx.settings.cache
        premium = ctx.settings.production or settings.mode == "cluster"
        replicas = max(1, settings.replicas)
        self.vault = vault
        self.redis = RedisCache(
            self,
            "redis",
            name=ctx.naming.unique("redis", 63),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
            sku_name="Premium" if premium else "Standard",
            family="P" if premium else "C",
            capacity=1,
            redis_version="6",
            minimum_tls_version=settings.tls_min_version,
            non_ssl_port_enabled=False,
            public_network_access_enabled=not ctx.private,
            replicas_per_primary=replicas if premium else None,
            # Premium only: the primary and each replica in a different availability zone.
            zones=redis_zones(replicas) if premium and ctx.settings.production else None,
            redis_configuration=RedisCacheRedisConfiguration(
                maxmemory_policy="allkeys-lru",
                # Entra ID auth on, with the function's identity as a data-access user
                # (grant_access). Access keys stay on: statekit's redis URL authenticates
                # with a password read from an app setting (docs/urls.md), and an Entra
                # token expires hourly, so keys go off once the client can fetch tokens
                # (docs/iac-azure-gcp.md, "Redis authentication").
                active_directory_authentication_enabled=True,
            ),
        )
        if network is not None:
            network.connect("redis", self.redis.id, "redisCache")
        self.secret: KeyVaultSecret = vault.secret(
            "access-key",
            name=PASSWORD_SECRET,
            value=self.redis.primary_access_key,
            content_type="redis-access-key",
        )

    @property
    def url(self) -> str:
        """``rediss://HOST:6380/0?password_env=STATEKIT_CACHE_PASSWORD``: no secret in the URL."""
        return f"rediss://{self.redis.hostname}:{TLS_PORT}/0?password_env={PASSWORD_SETTING}"

    def app_settings(self) -> dict[str, str]:
        return {PASSWORD_SETTING: self.vault.reference(PASSWORD_SECRET)}

    def grant_access(self, principal_id: str) -> None:
        self.vault.grant_secret_read("cache-key-reader", self.secret, principal_id)
        # The built-in "Data Contributor" policy (no FLUSHALL/CONFIG), for Entra sign-in.
        RedisCacheAccessPolicyAssignment(
            self,
            "function-data-contributor",
            name="statekit-function",
            redis_cache_id=self.redis.id,
            access_policy_name="Data Contributor",
            object_id=principal_id,
            object_id_alias="statekit-function",
        )
