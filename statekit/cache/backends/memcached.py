"""Memcached cache (pymemcache): ElastiCache for Memcached, Memorystore for Memcached.

URL: ``memcached://HOST:PORT[?prefix=P][&tls=true]`` (port 11211 by default).

What Memcached cannot do, and the kit does not pretend it can: it keeps nothing
across a restart (no persistence, no replication), it evicts least-recently-used
items under memory pressure before their TTL, and it has no authentication in
the URL's sense (ElastiCache and Memorystore reach it only inside the VPC; with
``tls=true`` the link is encrypted and the server certificate verified against
the system's trust store). A cache is allowed all of that: a miss only costs a
store read. It is a cache backend only, never a store.

* Keys: Memcached takes at most 250 bytes of printable ASCII without spaces. A key
  that is such text (and does not start with ``#``) is sent as it is; any other
  (spaces, non-ASCII, too long with the prefix) as ``#`` + its SHA-256, so the
  mapping stays one-to-one.
* TTL: Memcached counts whole seconds, and reads a relative time above 30 days
  (2,592,000 s) as an absolute Unix time. statekit sends ``ceil(seconds) + 1`` as a
  relative time up to 30 days and an absolute time beyond, and keeps the exact
  expiry in the stored text (``@<epoch ms>@`` before the JSON), so a read never
  returns an entry past its TTL even within Memcached's one-second rounding. An
  entry without a TTL is the JSON text alone.
* ``delete`` reports Memcached's answer: an entry past its exact TTL that the
  server has not yet dropped (within a second) still counts as there.
* Connections: one client (one socket) per concurrent call ("lanes", as the Redis
  cache), kept for warm invocations; half-second timeouts and at most
  ``CACHE_ATTEMPTS`` tries, then ``BackendUnavailable``.
"""

from __future__ import annotations

import hashlib
import math
import os
import ssl
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import ClassVar, TypeVar

from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheError, MemcacheUnexpectedCloseError

from statekit.cache.backend import CacheBackend, Data
from statekit.errors import BackendUnavailable, StatekitError
from statekit.urls import ConnectionURL

T = TypeVar("T")
DEFAULT_PORT = 11211
MAX_KEY_BYTES = 250  # Memcached's limit
RELATIVE_TTL_LIMIT = 30 * 24 * 3600  # above this, Memcached reads exptime as a Unix time
TIMEOUT_SECONDS = 0.5
CACHE_ATTEMPTS = 3
BACKOFF_SECONDS = (0.05, 0.1)
_RETRYABLE = (OSError, MemcacheUnexpectedCloseError)  # socket errors and timeouts
_MARK = 0x40  # b"@": no JSON text starts with it


def memcached_exptime(ttl_ms: int, now: float) -> int:
    """The exptime Memcached needs for ``ttl_ms``: never before statekit's own expiry."""
    seconds = math.ceil(ttl_ms / 1000) + 1  # its clock ticks whole seconds
    if seconds <= RELATIVE_TTL_LIMIT:
        return seconds
    return int(now) + seconds  # the 30-day rule: an absolute Unix time


def envelope(data: str, ttl_ms: int | None, now: float) -> bytes:
    """What is stored: the JSON text, behind its exact expiry when it has a TTL."""
    if ttl_ms is None:
        return data.encode()
    return f"@{int(now * 1000) + ttl_ms}@{data}".encode()


def unwrap(stored: bytes | None) -> bytes | None:
    """The JSON text of a stored entry, or ``None`` if missing or past its exact expiry."""
    if stored is None or not stored or stored[0] != _MARK:
        return stored
    end = stored.index(b"@", 1)
    if int(stored[1:end]) <= time.time() * 1000:
        return None
    return stored[end + 1 :]


class MemcachedCache(CacheBackend):
    name = "memcached"
    # What callers must not expect of it (README and docs/memcached.md say the same).
    limitations: ClassVar[tuple[str, ...]] = (
        "no persistence: a restart or a node replacement empties it",
        "evicts least-recently-used entries under memory pressure, before their TTL",
        "no replication, no transactions, no compare-and-set through statekit",
        "values up to the server's item size (1 MB by default)",
    )

    def __init__(
        self, host: str, port: int, prefix: str = "", tls: ssl.SSLContext | None = None
    ) -> None:
        self._server = (host, port)
        self._tls = tls
        self._prefix = prefix
        self._label = f"memcached://{host}:{port}"
        self._idle: list[Client] = []
        self._all: list[Client] = []
        self._lock = threading.Lock()
        _all_caches.add(self)

    @classmethod
    def from_url(cls, url: ConnectionURL) -> MemcachedCache:
        url.require_known_params(("prefix", "tls"))
        if not url.host:
            raise url.error(
                "a memcached URL needs a host, like memcached://cache.example.com:11211"
            )
        if url.path.strip("/"):
            raise url.error("a memcached URL has no path (Memcached has no databases)")
        prefix = url.param("prefix", "") or ""
        if not _plain(prefix) or len(prefix) > 50:
            raise url.error(
                f"prefix must be at most 50 printable ASCII characters without spaces, got {prefix!r}"
            )
        tls_flag = url.param("tls", "false")
        if tls_flag not in ("true", "false"):
            raise url.error(f"tls must be 'true' or 'false', got {tls_flag!r}")
        context = ssl.create_default_context() if tls_flag == "true" else None
        return cls(url.host, url.port or DEFAULT_PORT, prefix, context)

    # -- connections ---------------------------------------------------------------------
    def _new_client(self) -> Client:
        client = Client(
            self._server,
            connect_timeout=TIMEOUT_SECONDS,
            timeout=TIMEOUT_SECONDS,
            no_delay=True,
            tls_context=self._tls,
            # Keys are checked (and hashed where needed) by ``_name``.
            allow_unicode_keys=False,
        )
        with self._lock:
            self._all.append(client)
        return client

    def forget_parent_connections(self) -> None:
        """In a forked child: never touch the parent's sockets."""
        with self._lock:
            self._idle.clear()
            self._all = []

    def _name(self, key: str) -> str:
        name = self._prefix + key
        if _plain(key) and not key.startswith("#") and len(name) <= MAX_KEY_BYTES:
            return name
        return f"{self._prefix}#{hashlib.sha256(key.encode()).hexdigest()}"

    def _run(self, operation: str, command: Callable[[Client], T], tried: int = 0) -> T:
        """``command`` on a borrowed client; connection errors retried, then
        ``BackendUnavailable``; anything else the server refuses, a StatekitError."""
        last: Exception | None = None
        for attempt in range(tried, CACHE_ATTEMPTS):
            if attempt:
                time.sleep(BACKOFF_SECONDS[attempt - 1])
            try:
                client = self._idle.pop()
            except IndexError:
                client = self._new_client()  # connects on first use, inside ``command``
            try:
                return command(client)
            except _RETRYABLE as exc:
                last = exc
                client.close()  # reconnects on its next use
            except MemcacheError as exc:
                raise StatekitError(f"{self._label} refused {operation}: {exc}") from None
            finally:
                self._idle.append(client)
        raise BackendUnavailable(self._label, operation, last) from None

    # -- the contract --------------------------------------------------------------------
    def get(self, key: str) -> Data | None:
        name = self._name(key)
        idle = self._idle
        # The hit path: the first attempt inline (no closure); failures go through _run.
        try:
            client = idle.pop()
        except IndexError:
            return unwrap(self._run(f"get {key!r}", lambda c: c.get(name)))
        try:
            return unwrap(client.get(name))
        except _RETRYABLE:
            client.close()
        except MemcacheError as exc:
            raise StatekitError(f"{self._label} refused get {key!r}: {exc}") from None
        finally:
            idle.append(client)
        return unwrap(self._run(f"get {key!r}", lambda c: c.get(name), tried=1))

    def get_many(self, keys: Sequence[str]) -> list[Data | None]:
        names = [self._name(key) for key in keys]
        found = self._run(f"get_many of {len(keys)} keys", lambda c: c.get_many(names))
        return [unwrap(found.get(name)) for name in names]

    def set(self, key: str, data: str, ttl_ms: int | None) -> None:
        name, now = self._name(key), time.time()
        value = envelope(data, ttl_ms, now)
        expire = 0 if ttl_ms is None else memcached_exptime(ttl_ms, now)
        self._run(f"set {key!r}", lambda c: c.set(name, value, expire=expire, noreply=False))

    def set_many(self, items: Sequence[tuple[str, str]], ttl_ms: int | None) -> None:
        now = time.time()
        values = {self._name(key): envelope(data, ttl_ms, now) for key, data in items}
        expire = 0 if ttl_ms is None else memcached_exptime(ttl_ms, now)

        def store_all(client: Client) -> None:
            # One round trip: pymemcache sends every SET, then reads every answer.
            failed = client.set_many(values, expire=expire, noreply=False)
            if failed:
                raise StatekitError(f"{self._label} did not store {len(failed)} keys")

        self._run(f"set_many of {len(items)} keys", store_all)

    def delete(self, key: str) -> bool:
        name = self._name(key)
        return bool(self._run(f"delete {key!r}", lambda c: c.delete(name, noreply=False)))

    def close(self) -> None:
        with self._lock:
            clients, self._all = self._all, []
            self._idle.clear()
        for client in clients:
            client.close()


def _plain(text: str) -> bool:
    """Printable ASCII without spaces: what Memcached takes in a key as it is."""
    return text.isascii() and text.isprintable() and " " not in text


_all_caches: weakref.WeakSet[MemcachedCache] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for cache in list(_all_caches):
        cache.forget_parent_connections()


os.register_at_fork(after_in_child=_after_fork_in_child)
