"""Redis cache on a 3-node Redis Cluster, through ``cluster=true``."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.registry import Case, Restartable
from tests.standins import redis_cluster
from tests.standins.base import StandInPool
from tests.standins.redis_cluster import RedisClusterServers


def redis_cluster_url(standins: StandInPool, workdir: Path | None = None) -> str:
    cluster = standins.get("redis_cluster")
    assert isinstance(cluster, RedisClusterServers)
    return cluster.url


def _restartable(workdir: Path) -> Restartable:
    # Three nodes of the test's own; a restart brings back the same ports and slots, empty.
    cluster = redis_cluster.create(workdir)
    cluster.start()
    return Restartable(standin=cluster, url=cluster.url)


CASE = Case(
    name="redis_cluster",
    url=redis_cluster_url,
    restartable=_restartable,
    needs_module="redis",
)
