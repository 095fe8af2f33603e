"""PostgreSQL connections shared by the store and the queue: one small pool per URL.

URL: ``postgresql://USER@HOST:PORT/DATABASE?...`` (``postgres://`` too), with

* ``password_env=VAR`` or ``password_secret=ARN`` (``statekit.clients.secrets``), or
  ``auth=`` one of the clouds' token logins, fetched at each new connection (tokens
  live 15 minutes to an hour; a pooled connection outlives its token, which is fine:
  the server checks it only at login):

  - ``aws_iam``: an RDS IAM authentication token (``rds.generate_db_auth_token``,
    boto3; ``region=`` or ``AWS_REGION``), for Aurora and RDS Proxy;
  - ``azure_entra``: a Microsoft Entra token for ``ossrdbms-aad`` (azure-identity's
    ``DefaultAzureCredential``: the function's managed identity), for Flexible Server;
  - ``gcp_iam``: an OAuth2 access token of the function's service account
    (google-auth), for Cloud SQL IAM database authentication (the user is the
    account's e-mail without ``.gserviceaccount.com``).

  A password in the URL is refused: it would land in Terraform state and logs.
* ``sslmode=`` libpq's (``verify-full`` for the clouds; default ``prefer``).
* ``pool_size=`` 1 or 2 (default 2): a function instance runs one invocation at a
  time (a few threads at most), and every instance holds its connections, so the
  server (or the managed pooler in front: RDS Proxy, PgBouncer) sees
  instances x pool_size connections.
* ``connect_timeout=`` seconds (default 3) and ``timeout=`` seconds a call waits for
  a connection of the pool (default 5): a server that is down gives
  ``BackendUnavailable`` within about that bound, never a hang.

One pool per URL per process (``shared_pool``), so a warm invocation reuses the
connection its cold start opened and the store and queue of one URL share it. A
connection idle longer than ``IDLE_CHECK_SECONDS`` is pinged before it is used (a frozen function's connection may have been closed by the server or the
proxy meanwhile); a busy one is not, so the hot path pays no extra round trip.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from statekit.clients.secrets import resolve_password
from statekit.errors import BackendUnavailable, StatekitError
from statekit.urls import ConnectionURL

URL_PARAMS = (
    "password_env",
    "password_secret",
    "auth",
    "region",
    "sslmode",
    "pool_size",
    "connect_timeout",
    "timeout",
    "table",
    "queue",
    "max_attempts",
)
AUTH_MODES = ("password", "aws_iam", "azure_entra", "gcp_iam")
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
DEFAULT_POOL_SIZE = 2
DEFAULT_CONNECT_TIMEOUT = 3
DEFAULT_POOL_TIMEOUT = 5.0
IDLE_CHECK_SECONDS = 10.0
AZURE_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"
GCP_SCOPE = "https://www.googleapis.com/auth/sqlservice.login"

# Errors that mean "the server could not be reached or went away": retrying later
# may succeed, so they become BackendUnavailable. Everything else the server says
# (a constraint, a bad statement) is a StatekitError naming the operation.
UNREACHABLE = (psycopg.OperationalError, PoolTimeout)
T = TypeVar("T")


def _int_param(url: ConnectionURL, name: str, default: int, low: int, high: int) -> int:
    raw = url.param(name, str(default)) or ""
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise url.error(f"{name} must be an integer from {low} to {high}, got {raw!r}")
    return int(raw)


def _token_provider(url: ConnectionURL, mode: str, host: str, port: int) -> Callable[[], str]:
    """A function returning a fresh login token for ``mode``; the SDK is imported lazily."""
    user = url.username or ""
    if mode == "aws_iam":
        region = url.param("region") or os.environ.get("AWS_REGION")
        if not region:
            raise url.error("auth=aws_iam needs region= (or AWS_REGION) for the RDS token")

        def aws_token() -> str:
            import boto3

            client = boto3.client("rds", region_name=region)
            return str(client.generate_db_auth_token(host, port, user, Region=region))

        return aws_token
    if mode == "azure_entra":

        def azure_token() -> str:
            from azure.identity import DefaultAzureCredential

            return str(DefaultAzureCredential().get_token(AZURE_SCOPE).token)

        return azure_token

    def gcp_token() -> str:
        import google.auth
        import google.auth.transport.requests

        credentials, _ = google.auth.default(scopes=[GCP_SCOPE])
        credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
        return str(credentials.token)

    return gcp_token


class PoolSettings:
    """What a URL says about connecting: parsed once, checked before any connection."""

    def __init__(self, url: ConnectionURL) -> None:
        if urlsplit(url.raw).password is not None:
            raise url.error(
                "a password never goes in the URL (it ends up in Terraform and logs): "
                "use ?password_env=VAR, ?password_secret=ARN or ?auth=aws_iam|azure_entra|gcp_iam"
            )
        if not url.host:
            raise url.error(
                "a postgresql URL needs a host, like postgresql://app@db.example.com/app"
            )
        if not url.username:
            raise url.error("a postgresql URL names its user, like postgresql://app@HOST/DATABASE")
        parts = url.path_parts()
        if len(parts) != 1:
            raise url.error("the path is the database name, like '/app'")
        self.database = parts[0]
        self.host = url.host
        self.port = url.port or 5432
        self.user = url.username
        self.pool_size = _int_param(url, "pool_size", DEFAULT_POOL_SIZE, 1, 2)
        self.connect_timeout = _int_param(url, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, 1, 60)
        self.timeout = float(_int_param(url, "timeout", int(DEFAULT_POOL_TIMEOUT), 1, 120))
        sslmode = url.param("sslmode", "prefer") or ""
        if sslmode not in SSL_MODES:
            raise url.error(f"sslmode must be one of {', '.join(SSL_MODES)}, got {sslmode!r}")
        self.sslmode = sslmode
        mode = url.param("auth", "password") or ""
        if mode not in AUTH_MODES:
            raise url.error(f"auth must be one of {', '.join(AUTH_MODES)}, got {mode!r}")
        if mode != "password" and (url.param("password_env") or url.param("password_secret")):
            raise url.error(f"auth={mode} logs in with a token: drop password_env/password_secret")
        self.auth = mode
        self._url = url
        self._token = (
            None if mode == "password" else _token_provider(url, mode, self.host, self.port)
        )
        if mode == "password":
            resolve_password(url)  # a missing variable or secret is a URL error now, not later
        # The pool's identity: where it connects and as whom (never a secret).
        self.key = (self.host, self.port, self.database, self.user, mode, self.sslmode)

    def password(self) -> str | None:
        """Looked up at each new connection, so a rotated secret or a fresh token is used."""
        if self._token is not None:
            try:
                return self._token()
            except StatekitError:
                raise
            except Exception as exc:  # the SDKs' errors are many; the message says which
                raise BackendUnavailable(f"{self.auth} token", "login", exc) from None
        return resolve_password(self._url)

    def connect_kwargs(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "dbname": self.database,
            "user": self.user,
            "sslmode": self.sslmode,
            "connect_timeout": self.connect_timeout,
            "application_name": "statekit",
            # autocommit: a single statement is its own transaction (READ COMMITTED);
            # statekit opens explicit transactions where it needs several statements.
            "autocommit": True,
            # Prepared after the first use: the hot statements skip parsing and planning.
            "prepare_threshold": 0,
        }

    @property
    def label(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"


class SharedPool:
    """A ``psycopg_pool.ConnectionPool`` of 1-2 connections, lent one call at a time.

    psycopg_pool opens, re-opens (with backoff) and closes the connections; the
    connections it has lent stay parked here between calls ("lanes", as the Redis
    cache has), so a call borrows one with ``list.pop`` and hands it back with
    ``list.append`` (atomic under the GIL, no lock): the pool's own checkout costs
    more CPU than that on every call (benchmarks/store_postgresql.py).
    """

    def __init__(self, settings: PoolSettings) -> None:
        self.settings = settings
        self.label = settings.label
        self._idle: list[tuple[psycopg.Connection[Any], float]] = []
        self._taken = 0  # connections lent by the pool: parked or in use
        self._lock = threading.Lock()

        def configure_password(kwargs: dict[str, Any]) -> dict[str, Any]:
            password = settings.password()
            return {**kwargs, "password": password} if password is not None else kwargs

        class _Connection(psycopg.Connection[Any]):
            @classmethod
            def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
                return super().connect(conninfo, **configure_password(kwargs))

        self.pool: ConnectionPool[Any] = ConnectionPool(
            kwargs=settings.connect_kwargs(),
            connection_class=_Connection,
            min_size=0,  # nothing opened before the first call; then kept for warm calls
            max_size=settings.pool_size,
            timeout=settings.timeout,
            # Retry a failed connect for as long as a caller waits, not five minutes.
            reconnect_timeout=settings.timeout,
            open=True,
            name=settings.label,
        )

    def _borrow(self, operation: str) -> tuple[psycopg.Connection[Any], float]:
        deadline = time.monotonic() + self.settings.timeout
        while True:
            with self._lock:
                grow = self._taken < self.settings.pool_size
                if grow:
                    self._taken += 1
            if grow:
                try:
                    return self.pool.getconn(), time.monotonic()
                except BaseException as exc:
                    with self._lock:
                        self._taken -= 1
                    if isinstance(exc, UNREACHABLE):
                        raise BackendUnavailable(self.label, operation, exc) from None
                    raise
            # Every connection is busy in another thread: wait for one to come back.
            time.sleep(0.002)
            try:
                return self._idle.pop()
            except IndexError:
                if time.monotonic() > deadline:
                    raise BackendUnavailable(
                        self.label, f"{operation} (all {self.settings.pool_size} connections busy)"
                    ) from None

    def _discard(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            self._taken -= 1
        # The pool drops a broken connection and opens anew; a pool closing meanwhile
        # takes nothing back, which is fine.
        with contextlib.suppress(Exception):
            self.pool.putconn(conn)

    def run(self, operation: str, body: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``body`` on a lent connection. Unreachable -> ``BackendUnavailable``; any other
        refusal of the server -> a ``StatekitError`` naming the operation."""
        try:
            conn, used = self._idle.pop()
        except IndexError:
            conn, used = self._borrow(operation)
        if time.monotonic() - used > IDLE_CHECK_SECONDS:
            # A frozen function's connection may have been closed by the server or the
            # proxy meanwhile: ping it before trusting it with a write.
            try:
                conn.execute("SELECT 1")
            except psycopg.Error:
                self._discard(conn)
                conn, used = self._borrow(operation)
        try:
            result = body(conn)
        except UNREACHABLE as exc:
            self._discard(conn)
            raise BackendUnavailable(self.label, operation, exc) from None
        except psycopg.Error as exc:
            self._settle(conn)
            raise StatekitError(f"{self.label} refused {operation}: {exc}") from None
        except BaseException:
            self._settle(conn)
            raise
        self._idle.append((conn, time.monotonic()))
        return result

    def _settle(self, conn: psycopg.Connection[Any]) -> None:
        if conn.broken or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self._discard(conn)
        else:
            self._idle.append((conn, time.monotonic()))

    def close(self) -> None:
        with self._lock:
            parked, self._idle = self._idle, []
        for conn, _ in parked:
            self._discard(conn)
        self.pool.close(timeout=1.0)


_pools: dict[tuple[Any, ...], SharedPool] = {}
_users: dict[tuple[Any, ...], int] = {}
_pools_lock = threading.Lock()


def shared_pool(url: ConnectionURL) -> SharedPool:
    """The process's pool for this server and login (the store and the queue share it).

    Each caller hands it back with ``release_pool``; the last one closes it.
    """
    settings = PoolSettings(url)
    with _pools_lock:
        pool = _pools.get(settings.key)
        if pool is None or pool.pool.closed:
            pool = _pools[settings.key] = SharedPool(settings)
            _users[settings.key] = 0
        _users[settings.key] += 1
        return pool


def release_pool(pool: SharedPool) -> None:
    key = pool.settings.key
    with _pools_lock:
        if _pools.get(key) is not pool:
            pool.close()
            return
        _users[key] -= 1
        if _users[key] > 0:
            return
        del _pools[key], _users[key]
    pool.close()


def _forget_pools_after_fork() -> None:
    # A forked child must not use its parent's sockets; it opens its own.
    _pools.clear()
    _users.clear()


os.register_at_fork(after_in_child=_forget_pools_after_fork)


def schema_ready(pool: SharedPool, name: str, ddl: str) -> None:
    """Create the tables once (idempotent DDL under an advisory lock, so cold starts
    racing each other do not collide on the catalog)."""

    def create(conn: psycopg.Connection[Any]) -> None:
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))
                for statement in ddl.split(";"):  # built from checked identifiers
                    conn.execute(statement, prepare=False)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StatekitError(
                f"{pool.label}: the user may not create {name} ({exc}); create it once "
                "with the DDL in the docs (docs/postgresql.md), or grant CREATE"
            ) from None

    pool.run(f"create {name}", create)
