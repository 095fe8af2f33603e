"""Redis Cluster (cluster=true) on three cluster-enabled redis-server 7 nodes.

Every test uses its own partition (the ``ns`` fixture), so a run spreads the suite's
keys over hundreds of hash slots on all three nodes; ``test_redis_cluster.py`` checks that
they do.
"""

from __future__ import annotations

from pathlib import Path

from statekit import Capability
from tests.conformance.registry import Case
from tests.standins.base import StandInPool
from tests.standins.redis_cluster import RedisClusterServers


def redis_cluster_url(standins: StandInPool, workdir: Path) -> str:
    cluster = standins.get("redis_cluster")
    assert isinstance(cluster, RedisClusterServers)
    return f"{cluster.url}&prefix=conformance-store:"


CASE = Case(
    name="redis_cluster",
    url=redis_cluster_url,
    capabilities=frozenset(Capability),
    needs_module="redis",
)
