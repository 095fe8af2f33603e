"""Azure Cache for Redis: TLS 1.2 minimum, the non-TLS port off, the access key in Key Vault.

The function reads the key from the ``STATEKIT_CACHE_PASSWORD`` app setting, whose
value is a Key Vault reference (never the key itself); the cache URL names that
variable with ``password_env=`` (docs/urls.md). Standard C1 outside production;
Premium P1 (zone-redundant replicas) in production or when ``mode = "cluster"``.
"""

from __future__ import annotations

from cdktn_provider_azurerm.key_vault_secret import KeyVaultSecret
from cdktn_provider_azurerm.redis_cache import RedisCache, RedisCacheRedisConfiguration
from constructs import Construct

from .context import AzureContext
from .network import PrivateNetwork
from .vault import Vault

PASSWORD_SETTING = "STATEKIT_CACHE_PASSWORD"
PASSWORD_SECRET = "cache-access-key"
TLS_PORT = 6380


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
            replicas_per_primary=max(1, settings.replicas) if premium else None,
            redis_configuration=RedisCacheRedisConfiguration(maxmemory_policy="allkeys-lru"),
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
