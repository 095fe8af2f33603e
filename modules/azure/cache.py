"""Azure Cache for Redis: TLS 1.2 minimum, the non-TLS port off, Microsoft Entra sign-in only.

Access keys are off (``access_keys_authentication_enabled = false``): the functions
sign in with a Microsoft Entra token of a user-assigned *cache* identity, which has
the built-in "Data Contributor" access policy (no FLUSHALL/CONFIG). A user-assigned
identity because the URL names it (its object id is the Redis user, its client id
selects it on the worker: docs/urls.md), and the app's system-assigned identity cannot
appear in the app's own settings (a Terraform cycle). It exists before the app, which
carries it beside the host identity. No secret exists anywhere.

Standard C1 outside production; Premium P1 with replicas in production or when
``mode = "cluster"``; in production the primary and its replicas are spread over
availability zones (``zones``).
"""

from __future__ import annotations

from cdktn_provider_azurerm.redis_cache import RedisCache, RedisCacheRedisConfiguration
from cdktn_provider_azurerm.redis_cache_access_policy_assignment import (
    RedisCacheAccessPolicyAssignment,
)
from cdktn_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

from .context import AzureContext
from .network import PrivateNetwork

TLS_PORT = 6380
AVAILABILITY_ZONES = ("1", "2", "3")
DATA_POLICY = "Data Contributor"


def redis_zones(replicas: int) -> list[str]:
    """One zone per node (primary + replicas), at most the region's three zones."""
    return list(AVAILABILITY_ZONES[: min(replicas + 1, len(AVAILABILITY_ZONES))])


class RedisCacheComponent(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: AzureContext,
        network: PrivateNetwork | None,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = ctx.settings.cache
        premium = ctx.settings.production or settings.mode == "cluster"
        replicas = max(1, settings.replicas)
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
            # Entra ID only: no access key exists to leak or rotate.
            access_keys_authentication_enabled=False,
            redis_configuration=RedisCacheRedisConfiguration(
                maxmemory_policy="allkeys-lru",
                active_directory_authentication_enabled=True,
            ),
        )
        if network is not None:
            network.connect("redis", self.redis.id, "redisCache")
        self.identity = UserAssignedIdentity(
            self,
            "identity",
            name=ctx.naming.name("func-cache"),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
        )
        RedisCacheAccessPolicyAssignment(
            self,
            "data-contributor",
            name="statekit-cache-identity",
            redis_cache_id=self.redis.id,
            access_policy_name=DATA_POLICY,
            object_id=self.identity.principal_id,
            object_id_alias="statekit-cache-identity",
        )

    @property
    def url(self) -> str:
        """``rediss://OBJECT_ID@HOST:6380/0?entra_client_id=CLIENT_ID``: identities, no secret."""
        return (
            f"rediss://{self.identity.principal_id}@{self.redis.hostname}:{TLS_PORT}/0"
            f"?entra_client_id={self.identity.client_id}"
        )
