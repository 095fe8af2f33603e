"""Fixtures of the cache suites: one Cache per backend (memory, redis-server, and a
3-node Redis Cluster through ``cluster=true``)."""

from __future__ import annotations

import uuid

import pytest

from statekit.cache import Cache, open_cache
from tests.standins.base import StandInPool
from tests.standins.redis import RedisServer
from tests.standins.redis_cluster import RedisClusterServers

CACHE_BACKENDS = ["memory", "redis", "redis_cluster", "memcached"]


def redis_url(standins: StandInPool) -> str:
    server = standins.get("redis")
    assert isinstance(server, RedisServer)
    return server.url


def redis_cluster_url(standins: StandInPool) -> str:
    cluster = standins.get("redis_cluster")
    assert isinstance(cluster, RedisClusterServers)
    return cluster.url


def cache_url(backend: str, standins: StandInPool) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "memcached":
        pytest.importorskip("pymemcache")
        return standins.get("memcached").url  # type: ignore[attr-defined, no-any-return]
    pytest.importorskip("redis")
    if backend == "redis_cluster":
        return redis_cluster_url(standins)
    return redis_url(standins)


@pytest.fixture(params=CACHE_BACKENDS)
def cache(request: pytest.FixtureRequest, standins: StandInPool) -> Cache:
    return open_cache(cache_url(request.param, standins))


@pytest.fixture
def ns() -> str:
    """A fresh partition per test, so tests sharing a cache never see each other's keys."""
    return f"ct{uuid.uuid4().hex[:12]}"
