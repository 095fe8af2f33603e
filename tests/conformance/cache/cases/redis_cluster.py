"""Redis cache on a 3-node Redis Cluster, through ``cluster=true``."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.registry import Case
from tests.standins.base import StandInPool
from tests.standins.redis_cluster import RedisClusterServers


def redis_cluster_url(standins: StandInPool, workdir: Path | None = None) -> str:
    cluster = standins.get("redis_cluster")
    assert isinstance(cluster, RedisClusterServers)
    return cluster.url


CASE = Case(name="redis_cluster", url=redis_cluster_url, needs_module="redis")
