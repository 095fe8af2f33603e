"""ElastiCache Serverless for Memcached: chosen by ``cache.engine = "memcached"``.

Serverless Memcached is TLS-only (``memcached://HOST:11211?tls=true``), encrypted at
rest with the stack key, and reachable only inside the VPC, from the functions'
security group. It has no password: the network is the boundary. What Memcached
cannot do (no persistence, eviction under memory pressure) is in docs/memcached.md.
"""

from __future__ import annotations

from cdktn import Token
from cdktn_provider_aws.elasticache_serverless_cache import (
    ElasticacheServerlessCache,
    ElasticacheServerlessCacheCacheUsageLimits,
    ElasticacheServerlessCacheCacheUsageLimitsDataStorage,
)
from cdktn_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from .context import AwsContext
from .network import Network

MEMCACHED_PORT = 11211


class MemcachedCache(Construct):
    def __init__(self, scope: Construct, id_: str, ctx: AwsContext, network: Network) -> None:
        super().__init__(scope, id_)
        settings = ctx.settings.cache
        VpcSecurityGroupIngressRule(
            self,
            "from-functions",
            security_group_id=network.cache_sg.id,
            ip_protocol="tcp",
            from_port=MEMCACHED_PORT,
            to_port=MEMCACHED_PORT,
            referenced_security_group_id=network.function_sg.id,
            description="Memcached TLS from the functions",
        )
        VpcSecurityGroupEgressRule(
            self,
            "functions-to-memcached",
            security_group_id=network.function_sg.id,
            ip_protocol="tcp",
            from_port=MEMCACHED_PORT,
            to_port=MEMCACHED_PORT,
            referenced_security_group_id=network.cache_sg.id,
            description="Memcached TLS to the cache",
        )
        self.resource = ElasticacheServerlessCache(
            self,
            "serverless",
            name=ctx.naming.name("memcached", max_length=40),
            engine="memcached",
            description="statekit cache (Memcached)",
            cache_usage_limits=[
                ElasticacheServerlessCacheCacheUsageLimits(
                    data_storage=[
                        ElasticacheServerlessCacheCacheUsageLimitsDataStorage(
                            maximum=settings.max_data_gb, unit="GB"
                        )
                    ]
                )
            ],
            kms_key_id=ctx.key_arn,
            security_group_ids=[network.cache_sg.id],
            subnet_ids=network.subnet_ids,
            snapshot_retention_limit=settings.snapshot_retention_days,
        )
        self.host = Token.as_string(self.resource.endpoint.get(0).address)
        self.secret_arn: str | None = None  # nothing to read: Memcached has no password

    def url(self) -> str:
        return f"memcached://{self.host}:{MEMCACHED_PORT}?tls=true"
