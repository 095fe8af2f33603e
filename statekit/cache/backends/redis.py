"""Redis cache: ElastiCache, Azure Cache for Redis, Memorystore and redis-server.

URL: ``redis[s]://[USER@]HOST:PORT/DB[?password_env=VAR | password_secret=ARN][&prefix=P]
[&ca_env=VAR][&cluster=true]``.

* ``rediss://`` is TLS with certificate and host name verification against the
  system's trust store (the managed services use public CAs; ``SSL_CERT_FILE``
  names another bundle).
* The password never sits in the URL: ``password_env`` names the variable the
  platform fills from its secret store; ``password_secret`` is an AWS Secrets
  Manager ARN, read once per process with boto3 (imported only then). A JSON
  secret with a ``password`` field (ElastiCache's format) is understood.
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
  through redis-py's ``RedisCluster``; see ``redis_cluster.py``.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.cluster import RedisCluster  # already imported by ``import redis``
from redis.exceptions import AuthenticationError, MovedError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from statekit.cache.facade import CacheBackend, Data
from statekit.clients.secrets import _secrets, _secrets_lock, resolve_password
from statekit.errors import BackendUnavailable, StatekitError
from statekit.urls import ConnectionURL

# Query parameters of a redis URL, for the store and the cache alike.
URL_PARAMS = ("password_env", "password_secret", "prefix", "ca_env", "cluster")
IS_A_CLUSTER = (
    "the server is a Redis Cluster (cluster mode enabled, as ElastiCache Serverless is): "
    "add cluster=true to the URL"
)

# Defaults of ``client_options`` (the Redis store uses them as they are): redis-py
# retries connection errors 3 times, waiting 50, 100, 200 ms.
SOCKET_TIMEOUT_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 2.0
RETRIES = 3
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 0.5

# The cache's own, tighter bounds: a cache answer slower than half a second is worse
# than going to the store. The cache retries by itself (redis-py's retry nests a
# connect retry inside each command retry, which multiplies the worst case), so the
# worst case is CACHE_ATTEMPTS x (connect + read timeout) + the backoffs: about
# 3.2 s for a host that does not answer, 0.15 s for one that refuses connections.
CACHE_SOCKET_TIMEOUT_SECONDS = 0.5
CACHE_CONNECT_TIMEOUT_SECONDS = 0.5
CACHE_ATTEMPTS = 3
CACHE_BACKOFF_SECONDS = (0.05, 0.1)  # before the 2nd and 3rd attempts


def explain(exc: BaseException) -> str:
    """A refusal's text, with the fix when a plain client reached a cluster."""
    text = str(exc)
    if isinstance(exc, MovedError) or "not allowed in cluster mode" in text:
        return f"{text} ({IS_A_CLUSTER})"
    return text


def wants_cluster(url: ConnectionURL) -> bool:
    """``cluster=true``: the server is a Redis Cluster (cluster mode enabled)."""
    value = url.param("cluster", "false")
    if value not in ("true", "false"):
        raise url.error(f"cluster must be 'true' or 'false', got {value!r}")
    return value == "true"


def client_options(url: ConnectionURL) -> dict[str, Any]:
    """Keyword arguments for ``redis.Redis`` from a statekit redis URL (shared with the store).

    With ``cluster=true`` they are for ``redis_cluster.LazyCluster`` instead (``db`` is
    then always 0: a cluster has no other database).
    """
    parts = url.path_parts()
    if len(parts) > 1 or (parts and not parts[0].isdigit()):
        raise url.error("the path is the database number, like '/0'")
    if wants_cluster(url) and parts and int(parts[0]) != 0:
        raise url.error(
            f"cluster=true needs database 0 (a Redis Cluster, like ElastiCache Serverless, "
            f"has no other and refuses SELECT), got /{parts[0]}"
        )
    if not url.host:
        raise url.error("a redis URL needs a host, like 'redis://cache.example.com:6379/0'")
    if urlsplit(url.raw).password is not None:
        raise url.error(
            "a password never goes in the URL (it ends up in Terraform and logs): "
            "use ?password_env=VAR or ?password_secret=ARN"
        )
    options: dict[str, Any] = {
        "host": url.host,
        "port": url.port or 6379,
        "db": int(parts[0]) if parts else 0,
        "username": url.username,
        "password": resolve_password(url),
        # RESP2: every Redis and every managed offering speaks it (RESP3 needs HELLO,
        # Redis 6+), and redis-py parses it a little faster.
        "protocol": 2,
        "socket_timeout": SOCKET_TIMEOUT_SECONDS,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "retry": Retry(
            ExponentialBackoff(cap=BACKOFF_CAP_SECONDS, base=BACKOFF_BASE_SECONDS), RETRIES
        ),
    }
    if url.scheme == "rediss":
        options.update(ssl=True, ssl_cert_reqs="required", ssl_check_hostname=True)
        ca_variable = url.param("ca_env")
        if ca_variable:
            # Memorystore signs with the instance's own CA: the platform hands its (public)
            # PEM to the function in this variable, and only that CA is trusted.
            ca_pem = os.environ.get(ca_variable)
            if not ca_pem:
                raise url.error(f"ca_env names {ca_variable!r}, which is not set")
            options["ssl_ca_data"] = ca_pem
    elif url.param("ca_env"):
        raise url.error("ca_env needs TLS: use rediss://")
    return options


class _Lanes:
    """Single-connection clients over one shared pool, lent out one call at a time.

    redis-py's per-command pool checkout and release cost about as much CPU as the
    rest of a GET (measured: benchmarks/cache_hit.py). A lane is a client holding
    one connection of the shared pool for good, so a call borrows and returns it
    with ``list.pop``/``list.append`` (atomic under the GIL, no lock). There are as
    many lanes as calls ever ran at once in this process: one for a Lambda, a few
    for a threaded Azure or Cloud Run worker.
    """

    def __init__(self, options: dict[str, Any]) -> None:
        self._options = _pool_options(options)
        self.idle: list[Lane] = []
        self._start()
        _all_lanes.add(self)

    def _start(self) -> None:
        self.pool = redis.ConnectionPool(**self._options)
        self.pooled = redis.Redis(connection_pool=self.pool)  # for pipelines: checkout per call
        self._all: list[redis.Redis] = []
        self._lock = threading.Lock()

    def forget_parent_connections(self) -> None:
        """In a forked child: never touch the parent's sockets (they stay the parent's)."""
        self.idle.clear()  # in place: the hit path holds this list
        self._start()

    def new_lane(self) -> Lane:
        # Connects now (with the connection's bounded retry); the caller maps failures.
        lane = redis.Redis(connection_pool=self.pool, single_connection_client=True)
        with self._lock:
            self._all.append(lane)
        return lane

    def close(self) -> None:
        with self._lock:
            lanes, self._all = self._all, []
            self.idle.clear()
        for lane in lanes:
            lane.close()
        self.pool.disconnect()


# A lane: a single-connection client, or (cluster=true) the one shared RedisCluster.
Lane = redis.Redis | RedisCluster

_all_lanes: weakref.WeakSet[_Lanes] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for lanes in list(_all_lanes):
        lanes.forget_parent_connections()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _pool_options(options: dict[str, Any]) -> dict[str, Any]:
    """``redis.Redis`` keyword arguments as ``ConnectionPool`` wants them."""
    pool_options = dict(options)
    if pool_options.pop("ssl", False):
        pool_options["connection_class"] = redis.SSLConnection
    return pool_options


class RotatingPassword(redis.CredentialProvider):
    """The password, looked up at each (re)connect, so a rotated one is picked up.

    ``password_env`` is read again each time; a ``password_secret`` comes from the
    per-process copy, which ``forget`` drops after an authentication failure (at
    most once per ``SECRET_REFRESH_SECONDS``), so the next connection reads the
    rotated secret from Secrets Manager.
    """

    def __init__(self, url: ConnectionURL) -> None:
        self.url = url
        self._forgotten_at = 0.0

    def get_credentials(self) -> tuple[str] | tuple[str, str]:
        password = resolve_password(self.url) or ""
        return (self.url.username, password) if self.url.username else (password,)

    def forget(self) -> None:
        arn = self.url.param("password_secret")
        now = time.monotonic()
        if arn is not None and now - self._forgotten_at >= SECRET_REFRESH_SECONDS:
            self._forgotten_at = now
            with _secrets_lock:
                _secrets.pop(arn, None)


SECRET_REFRESH_SECONDS = 30.0


def cache_client_options(url: ConnectionURL) -> dict[str, Any]:
    """``client_options`` with the cache's tighter timeouts, no redis-py retry, and
    credentials looked up at each connect (``RotatingPassword``)."""
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
            from statekit.clients.redis_cluster import RedisClusterCache

            return RedisClusterCache(options, prefix, label)
        return cls(options, prefix, label)

    @staticmethod
    def _open_lanes(options: dict[str, Any]) -> _Lanes:
        return _Lanes(options)

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
            return self._run(f"get {key!r}", lambda lane: _get(lane, self._prefix + key))
        try:
            # ``execute_command`` directly: ``Redis.get`` is only a frame around it.
            return lane.execute_command("GET", self._prefix + key)  # type: ignore[no-untyped-call, no-any-return]
        except RedisError:
            pass
        finally:
            idle.append(lane)
        return self._run(f"get {key!r}", lambda lane: _get(lane, self._prefix + key), tried=1)

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


def _get(lane: Lane, name: str) -> Data | None:
    return lane.execute_command("GET", name)  # type: ignore[no-untyped-call, no-any-return]
