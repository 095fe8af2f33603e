"""Redis connections shared by the Redis store and the Redis cache.

URL: ``redis[s]://[USER@]HOST:PORT/DB[?password_env=VAR | password_secret=ARN |
entra_client_id=ID][&prefix=P][&ca_env=VAR][&cluster=true]``.

* ``rediss://`` is TLS with certificate and host name verification against the
  system's trust store (the managed services use public CAs; ``SSL_CERT_FILE``
  names another bundle); ``ca_env`` names a variable holding the one CA to trust.
* The password never sits in the URL: ``password_env`` names the variable the
  platform fills from its secret store; ``password_secret`` is an AWS Secrets
  Manager ARN, read once per process with boto3 (imported only then). A JSON
  secret with a ``password`` field (ElastiCache's format) is understood;
  ``RotatingPassword`` looks it up again at each connect.
* ``entra_client_id``: Azure Cache for Redis with a Microsoft Entra token of that
  user-assigned managed identity, the URL's user being its object id
  (``redis_entra.py`` beside this file); no password anywhere.
* ``Lanes``: single-connection clients over one shared pool, lent out one call at a
  time, and made again in a forked child (never the parent's sockets).
* ``cluster=true``: a Redis Cluster (cluster mode enabled: ElastiCache Serverless),
  through redis-py's ``RedisCluster``; see ``redis_cluster.py`` beside this file.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import RedisCluster  # already imported by ``import redis``
from redis.exceptions import MovedError
from redis.retry import Retry

from statekit.clients.redis_entra import EntraToken, entra_client_id
from statekit.clients.secrets import _secrets, _secrets_lock, resolve_password
from statekit.urls import ConnectionURL

# Query parameters of a redis URL, for the store and the cache alike.
URL_PARAMS = ("password_env", "password_secret", "entra_client_id", "prefix", "ca_env", "cluster")
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

PASSWORD_IN_URL = (
    "a password never goes in the URL (it ends up in Terraform and logs): "
    "use ?password_env=VAR or ?password_secret=ARN"
)


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
    """Keyword arguments for ``redis.Redis`` from a statekit redis URL (the store's as they are).

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
        raise url.error(PASSWORD_IN_URL)
    client_id = entra_client_id(url)
    options: dict[str, Any] = {
        "host": url.host,
        "port": url.port or 6379,
        "db": int(parts[0]) if parts else 0,
        "username": None if client_id else url.username,
        "password": None if client_id else resolve_password(url),
        # RESP2: every Redis and every managed offering speaks it (RESP3 needs HELLO,
        # Redis 6+), and redis-py parses it a little faster.
        "protocol": 2,
        "socket_timeout": SOCKET_TIMEOUT_SECONDS,
        "socket_connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "retry": Retry(
            ExponentialBackoff(cap=BACKOFF_CAP_SECONDS, base=BACKOFF_BASE_SECONDS), RETRIES
        ),
    }
    if client_id:  # a token at each connect, fetched once per lifetime
        options["credential_provider"] = EntraToken(str(url.username), client_id)
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


class Lanes:
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

_all_lanes: weakref.WeakSet[Lanes] = weakref.WeakSet()


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


def get(lane: Lane, name: str) -> str | None:
    """``GET name``: ``execute_command`` directly, ``Redis.get`` is only a frame around it."""
    return lane.execute_command("GET", name)  # type: ignore[no-untyped-call, no-any-return]
