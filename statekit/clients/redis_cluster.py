"""Redis Cluster (``cluster=true``) for the Redis store and cache.

ElastiCache Serverless only speaks Redis Cluster (cluster mode enabled), as do
sharded ElastiCache replication groups and Memorystore for Redis Cluster: a plain
client gets ``MOVED`` replies and "SELECT is not allowed in cluster mode". With
``cluster=true`` the store and the cache use redis-py's ``RedisCluster`` with the
URL's TLS, credentials and timeouts (``redis.client_options`` beside this file), database 0.

* The client is made at the first call, not when the store or cache is opened
  (``LazyCluster``): ``RedisCluster`` asks the server for its slot map as it is
  built, and opening must not fail or wait because the cluster is briefly away.
* Topology refreshes always go to the URL's host (``dynamic_startup_nodes=False``):
  a configuration endpoint is a DNS name, and a TLS host-name check needs it.
* Every multi-key operation stays on one slot or is split per node: the store's keys
  of a partition share a hash tag (each script's keys are one slot) and its
  pipelines are routed per node by ``ClusterPipeline``; the cache's ``get_many`` is
  ``mget_nonatomic`` (one ``MGET`` per slot, in one pipeline per node).
* redis-py raises ``RedisClusterException`` (not a ``RedisError``) when no node can
  be reached; ``as_redis_error`` gives the ``RedisError`` it stands for, so the
  backends map it as they map a plain client's failures.
"""

from __future__ import annotations

import threading
from typing import Any

from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import (
    ClusterDownError,
    RedisClusterException,
    RedisError,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from statekit.clients.redis import Lane, Lanes

NOT_A_CLUSTER = (
    "cluster=true, but the server is not a Redis Cluster (cluster mode disabled): "
    "remove cluster=true from the URL"
)


def cluster_options(options: dict[str, Any]) -> dict[str, Any]:
    """``client_options`` (for ``redis.Redis``) as ``RedisCluster`` takes them."""
    cluster = dict(options)
    if cluster.pop("db", 0) != 0:  # client_options refuses another database already
        raise ValueError("a Redis Cluster has database 0 only")
    # ``retry`` stays: RedisCluster takes it as its own argument (its number of retries,
    # each after a topology refresh); node connections get none, the cluster retries.
    cluster["dynamic_startup_nodes"] = False
    # A shard that is failing over leaves its slots uncovered for a moment: the other
    # slots keep working, and calls on those fail as unavailable (SlotNotCoveredError).
    cluster["require_full_coverage"] = False
    return cluster


# Replies of a cluster being reconfigured (a failover, a slot migration): worth a retry,
# then BackendUnavailable, not a refusal.
TRANSIENT = (SlotNotCoveredError, ClusterDownError, TryAgainError)


def as_redis_error(exc: Exception) -> Exception:
    """The ``RedisError`` a ``RedisClusterException`` stands for, a reconfiguring cluster
    as a connection error; other errors as they are."""
    if isinstance(exc, TRANSIENT):
        return RedisConnectionError(f"{type(exc).__name__}: {exc}")
    if not isinstance(exc, RedisClusterException):
        return exc
    cause = exc.__cause__
    if isinstance(cause, RedisClusterException) and "not enabled" in str(cause):
        return ResponseError(NOT_A_CLUSTER)
    if isinstance(cause, RedisError):  # "cannot be connected": the last node's error
        return cause
    return ResponseError(str(exc))


class LazyCluster:
    """A ``RedisCluster`` made at the first call; stands in for it until then.

    ``register_script`` answers without a server; any other attribute is the
    client's (made now, its failure a ``RedisError``).
    """

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = cluster_options(options)
        self._client: RedisCluster | None = None
        self._lock = threading.Lock()

    def client(self) -> RedisCluster:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    try:
                        self._client = RedisCluster(**self.options)
                    except RedisClusterException as exc:
                        raise as_redis_error(exc) from None
                client = self._client
        return client

    def register_script(self, script: str) -> Script:
        # Script keeps this object and calls evalsha/script_load on it later; given bytes,
        # it hashes them without asking the (not yet made) client for its encoder.
        return Script(self, script.encode("utf-8"))  # type: ignore[arg-type]

    def route(self, key: str) -> dict[str, Any]:
        """``execute_command`` options that send a pipelined command on ``key`` to its node.

        A cluster pipeline asks a server (``COMMAND GETKEYS``, one round trip per
        command) for the keys of a command it cannot parse, as EVALSHA; naming the node
        skips that. A stale slot map still works: the node answers MOVED and redis-py
        sends that command again, alone, where the slot now is.
        """
        client = self.client()
        slot = client.keyslot(key)  # type: ignore[no-untyped-call]
        return {"target_nodes": client.nodes_manager.get_node_from_slot(slot)}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client(), name)

    def forget(self) -> None:
        """In a forked child: make a new client at the next call, never touch the parent's."""
        self._client = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


class ClusterLanes(Lanes):
    """Every call shares one ``RedisCluster``: it is thread-safe (a pool per node), so
    the single-connection lanes of a plain client have no counterpart here."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.cluster = LazyCluster(options)
        super().__init__(options)

    def _start(self) -> None:
        self.cluster.forget()

    def new_lane(self) -> Lane:
        return self.cluster.client()

    def close(self) -> None:
        self.idle.clear()
        self.cluster.close()
