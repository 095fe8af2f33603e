"""Redis cache: ElastiCache, Azure Cache for Redis, Memorystore and redis-server.

URL: ``redis[s]://[USER@]HOST:PORT/DB[?password_env=VAR | password_secret=ARN |
entra_client_id=ID][&prefix=P][&ca_env=VAR][&cluster=true]``.

* ``rediss://`` is TLS with certificate and host name verification against the
  system's trust store (the managed services use public CAs; ``SSL_CERT_FILE``
  names another bundle).
* The password never sits in the URL: ``password_env`` names the variable the
  platform fills from its secret store; ``password_secret`` is an AWS Secrets
  Manager ARN, read once per process with boto3 (imported only then). A JSON
  secret with a ``password`` field (ElastiCache's format) is understood.
  ``entra_client_id`` signs in to Azure Cache for Redis with a Microsoft Entra token
  of that managed identity instead (``statekit.clients.redis_entra``).
* One connection pool per ``Cache`` (and ``open_cache`` keeps one ``Cache`` per
  URL per process), so warm invocations skip the TCP/TLS handshake. Calls borrow
  a single-connection "lane" of that pool instead of checking a connection out
  per command (``_Lanes``): that halves redis-py's CPU per GET.
* Half-second socket timeouts and at most ``CACHE_ATTEMPTS`` tries with short
  backoffs (the cache's own loop, one level deep), then ``BackendUnavailable``: a
  cache that does not answer fast is worse than a miss. A retry also reconnects a
  connection the platform froze and the server closed.
* Values are the JSON text; ``SET .. PX`` for TTL, ``MGET`` for ``get_many``.
* ``cluster=true``: a Redis Cluster (cluster mode enabled: ElastiCache Serverless),
  through redis-py's ``RedisCluster``; see ``redis_cluster.py`` beside this file.

The connection code (URL, TLS, passwords, lanes, fork handling) is
``statekit.clients.redis``, shared with the Redis store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from statekit.cache.backend import CacheBackend, Data
from statekit.clients.redis import (
    URL_PARAMS,
    Lane,
    Lanes,
    RotatingPassword,
    client_options,
    explain,
    get,
    wants_cluster,
)
from statekit.errors import BackendUnavailable, StatekitError
from statekit.urls import ConnectionURL

# The cache's own, tighter bounds: a cache answer slower than half a second is worse
# than going to the store. The cache retries by itself (redis-py's retry nests a
# connect retry inside each command retry, which multiplies the worst case), so the
# worst case is CACHE_ATTEMPTS x (connect + read timeout) + the backoffs: about
# 3.2 s for a host that does not answer, 0.15 s for one that refuses connections.
CACHE_SOCKET_TIMEOUT_SECONDS = 0.5
CACHE_CONNECT_TIMEOUT_SECONDS = 0.5
CACHE_ATTEMPTS = 3
CACHE_BACKOFF_SECONDS = (0.05, 0.1)  # before the 2nd and 3rd attempts


def cache_client_options(url: ConnectionURL) -> dict[str, Any]:
    """``client_options`` with the cache's tighter timeouts, no redis-py retry, and
    credentials looked up at each connect (``RotatingPassword``, or ``EntraToken``
    from ``client_options``)."""
    options = client_options(url)
    options.update(
        socket_timeout=CACHE_SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=CACHE_CONNECT_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),  # ``RedisCache._run`` retries: one level, bounded
    )
    if options["password"] is not None:
        del options["password"], options["username"]
        options["credential_provider"] = RotatingPassword(url)
    return options


T = TypeVar("T")
_RETRYABLE = (RedisConnectionError, RedisTimeoutError)  # AuthenticationError is one too


class RedisCache(CacheBackend):
    name = "redis"

    def __init__(self, options: dict[str, Any], prefix: str = "", label: str = "redis") -> None:
        self._credentials = options.get("credential_provider")
        self._lanes = self._open_lanes(options)
        self._idle = self._lanes.idle  # the hit path's only shared state
        self._prefix = prefix
        self._label = label

    @classmethod
    def from_url(cls, url: ConnectionURL) -> RedisCache:
        url.require_known_params(URL_PARAMS)
        label = f"{url.scheme}://{url.host}:{url.port or 6379}"
        options = cache_client_options(url)
        prefix = url.param("prefix", "") or ""
        if wants_cluster(url):
            from statekit.cache.backends.redis_cluster import RedisClusterCache

            return RedisClusterCache(options, prefix, label)
        return cls(options, prefix, label)

    @staticmethod
    def _open_lanes(options: dict[str, Any]) -> Lanes:
        return Lanes(options)

    def _run(self, operation: str, command: Callable[[Lane], T], tried: int = 0) -> T:
        """``command`` on a borrowed lane, retried on connection errors, then
        ``BackendUnavailable``; any other Redis error is refused at once."""
        last: RedisError | None = None
        for attempt in range(tried, CACHE_ATTEMPTS):
            if attempt:
                time.sleep(CACHE_BACKOFF_SECONDS[attempt - 1])
            try:
                lane = self._idle.pop()
            except IndexError:
                try:
                    lane = self._lanes.new_lane()  # connects now
                except _RETRYABLE as exc:
                    last = exc
                    if isinstance(exc, AuthenticationError) and self._credentials is not None:
                        self._credentials.forget()
                    continue
                except RedisError as exc:
                    self._refused(operation, exc)
            try:
                return command(lane)
            except _RETRYABLE as exc:
                last = exc  # redis-py has dropped the connection; the lane reconnects
                if isinstance(exc, AuthenticationError) and self._credentials is not None:
                    self._credentials.forget()  # the secret may have been rotated
            except RedisError as exc:
                self._refused(operation, exc)
            finally:
                self._idle.append(lane)
        raise BackendUnavailable(self._label, operation, last) from None

    def _refused(self, operation: str, exc: RedisError) -> NoReturn:
        raise StatekitError(f"redis {self._label} refused {operation}: {explain(exc)}") from None

    def get(self, key: str) -> Data | None:
        # The hit path: the first attempt inline (no closure, no loop); failures and
        # a missing lane go through ``_run``.
        idle = self._idle
        try:
            lane = idle.pop()
        except IndexError:
            return self._run(f"get {key!r}", lambda lane: get(lane, self._prefix + key))
        try:
            return get(lane, self._prefix + key)
        except RedisError:
            pass
        finally:
            idle.append(lane)
        return self._run(f"get {key!r}", lambda lane: get(lane, self._prefix + key), tried=1)

    def get_many(self, keys: Sequence[str]) -> list[Data | None]:
        names = [self._prefix + key for key in keys]
        return self._run(f"get_many of {len(keys)} keys", lambda lane: lane.mget(names))

    def set(self, key: str, data: str, ttl_ms: int | None) -> None:
        name = self._prefix + key
        self._run(f"set {key!r}", lambda lane: lane.set(name, data, px=ttl_ms))

    def set_many(self, items: Sequence[tuple[str, str]], ttl_ms: int | None) -> None:
        def pipelined(lane: Lane) -> Any:
            # MSET has no TTL; a non-transactional pipeline of SET PX is one round trip
            # (on a connection of the shared pool: a lane's client cannot pipeline).
            pipe = self._lanes.pooled.pipeline(transaction=False)
            for key, data in items:
                pipe.set(self._prefix + key, data, px=ttl_ms)
            return pipe.execute()

        self._run(f"set_many of {len(items)} keys", pipelined)

    def delete(self, key: str) -> bool:
        name = self._prefix + key
        return bool(self._run(f"delete {key!r}", lambda lane: lane.delete(name)))

    def close(self) -> None:
        self._lanes.close()
