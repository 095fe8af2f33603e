"""The Redis cache on a Redis Cluster (``cluster=true``): one shared ``RedisCluster``
(``statekit.clients.redis_cluster``), batches split by slot."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from redis.cluster import RedisCluster
from redis.exceptions import RedisClusterException

from statekit.cache.backend import Data
from statekit.cache.backends.redis import RedisCache
from statekit.clients.redis import Lane, Lanes, get
from statekit.clients.redis_cluster import TRANSIENT, ClusterLanes, as_redis_error

T = TypeVar("T")


class RedisClusterCache(RedisCache):
    """The Redis cache on a cluster: the same retry and error handling (``_run``), with
    ``RedisClusterException`` mapped first, and batches split by slot."""

    @staticmethod
    def _open_lanes(options: dict[str, Any]) -> Lanes:
        return ClusterLanes(options)

    def _run(self, operation: str, command: Callable[[Lane], T], tried: int = 0) -> T:
        def mapped(lane: Lane) -> T:
            try:
                return command(lane)
            except (RedisClusterException, *TRANSIENT) as exc:
                raise as_redis_error(exc) from None

        return super()._run(operation, mapped, tried)

    def get(self, key: str) -> Data | None:
        # No inline first attempt as on a plain client: the cluster client's own routing
        # costs far more than this call to ``_run``.
        name = self._prefix + key
        return self._run(f"get {key!r}", lambda lane: get(lane, name))

    def get_many(self, keys: Sequence[str]) -> list[Data | None]:
        names = [self._prefix + key for key in keys]
        # Keys of many slots: one MGET per slot (redis-py pipelines them per node).
        return self._run(
            f"get_many of {len(keys)} keys",
            lambda lane: _cluster(lane).mget_nonatomic(names),
        )

    def set_many(self, items: Sequence[tuple[str, str]], ttl_ms: int | None) -> None:
        def pipelined(lane: Lane) -> Any:
            pipe = _cluster(lane).pipeline(transaction=False)  # type: ignore[no-untyped-call]
            for key, data in items:  # SET PX: MSET has no TTL (and would span slots)
                pipe.set(self._prefix + key, data, px=ttl_ms)
            return pipe.execute()  # one round trip per node

        self._run(f"set_many of {len(items)} keys", pipelined)


def _cluster(lane: Lane) -> RedisCluster:
    assert isinstance(lane, RedisCluster)  # a ClusterLanes lends nothing else
    return lane
