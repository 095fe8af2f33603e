"""Redis Cluster (cluster=true) on three cluster-enabled redis-server 7 nodes.

Every test uses its own partition (the ``ns`` fixture), so a run spreads the suite's
keys over hundreds of hash slots on all three nodes; ``test_redis_cluster.py`` checks that
they do.
"""

from __future__ import annotations

from pathlib import Path

from statekit import Capability
from tests.conformance.registry import Case, Restartable
from tests.standins import redis_cluster
from tests.standins.base import StandInPool
from tests.standins.redis_cluster import RedisClusterServers


def redis_cluster_url(standins: StandInPool, workdir: Path) -> str:
    cluster = standins.get("redis_cluster")
    assert isinstance(cluster, RedisClusterServers)
    return f"{cluster.url}&prefix=conformance-store:"


def _restartable(workdir: Path) -> Restartable:
    # Three nodes of the test's own, nothing persisted: a restart brings back the same
    # ports and slots (nodes.conf), empty.
    cluster = redis_cluster.create(workdir)
    cluster.start()
    return Restartable(standin=cluster, url=f"{cluster.url}&prefix=faults:")


CASE = Case(
    name="redis_cluster",
    url=redis_cluster_url,
    capabilities=frozenset(Capability),
    restartable=_restartable,
    needs_module="redis",
)
