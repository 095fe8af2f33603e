"""Memorystore for Memcached: chosen by ``cache.engine = "memcached"``.

Reached on its private IP over private services access from the functions' VPC
(``memcached://NODE_IP:11211``); Memorystore for Memcached has no AUTH and no
in-transit encryption, so the VPC is the boundary. One node: statekit's Memcached
client talks to one server (no client-side sharding over several nodes, no auto
discovery), so the node is sized up instead (``max_data_gb``, up to 5 GB here). No
persistence, eviction under memory pressure: docs/memcached.md.
"""

from __future__ import annotations

from cdktn import Token
from cdktn_provider_google.memcache_instance import MemcacheInstance, MemcacheInstanceNodeConfig
from constructs import Construct

from .apis import enable_api
from .context import GcpContext
from .network import PrivateNetwork
from .private_services import private_services

MEMCACHED_PORT = 11211


class MemorystoreMemcached(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, ctx: GcpContext, network: PrivateNetwork
    ) -> None:
        super().__init__(scope, construct_id)
        api = enable_api(self, "api", ctx.project, "memcache.googleapis.com")
        peering = private_services(scope, ctx, network)
        self.instance = MemcacheInstance(
            self,
            "instance",
            name=ctx.naming.name("memcached", 40),
            project=ctx.project,
            region=ctx.region,
            authorized_network=network.network.id,
            node_count=1,
            node_config=MemcacheInstanceNodeConfig(
                cpu_count=1, memory_size_mb=1024 * min(5, ctx.settings.cache.max_data_gb)
            ),
            memcache_version="MEMCACHE_1_6_15",
            labels=ctx.settings.all_tags(),
            depends_on=[api, peering.connection, *ctx.apis],
        )

    @property
    def url(self) -> str:
        host = Token.as_string(self.instance.memcache_nodes.get(0).host)
        return f"memcached://{host}:{MEMCACHED_PORT}"
