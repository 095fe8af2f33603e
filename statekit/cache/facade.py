"""The cache: get/set/delete with TTL over Redis or an in-process LRU, one meaning on both.

``open_cache(url)`` picks the backend from ``STATEKIT_CACHE_URL`` (default
``memory://``, a bounded in-process LRU). ``Cache`` holds the shared rules (keys
follow the store's key rules, values are JSON-compatible and at most the store's
portable size, TTLs are positive seconds) and a backend only moves JSON text
(``CacheBackend``, in backend.py). One ``Cache`` per URL per process, so a warm serverless
invocation reuses the connection pool its cold start made.

The hit path is kept thin on purpose (it is benchmarked against a raw redis-py
GET): a key check, one backend call, one JSON decode.

``CacheAside`` (cache-aside over a ``Store``, invalidated by the store's writes,
with single-flight misses) lives in ``statekit.cache.aside``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from statekit.cache.backend import CacheBackend, Data
from statekit.clients.shared import SharedClient, open_shared
from statekit.errors import InvalidOption, InvalidValue
from statekit.store import rules

CACHE_URL_VARIABLE = "STATEKIT_CACHE_URL"
DEFAULT_CACHE_URL = "memory://"


def ttl_ms(ttl: object) -> int | None:
    """Milliseconds for ``ttl`` seconds (``None``: no expiry), checked like the store's TTL."""
    if ttl is None:
        return None
    if type(ttl) not in (int, float) or not math.isfinite(ttl):  # type: ignore[arg-type]
        raise InvalidOption(f"cache ttl must be a number of seconds, got {ttl!r}")
    seconds = float(ttl)  # type: ignore[arg-type]
    if seconds <= 0 or seconds > rules.MAX_TTL_SECONDS:
        raise InvalidOption(
            f"cache ttl must be > 0 and at most {rules.MAX_TTL_SECONDS} seconds, got {ttl!r}"
        )
    # Round up so a sub-millisecond TTL still means "a little while", never "forever".
    return max(1, math.ceil(seconds * 1000))


_check_key = rules.check_key
# Keys already found valid: the hit path then pays one set lookup, not the key rules.
# Bounded: cleared when full, so a stream of distinct keys cannot grow it forever.
_valid_keys: set[str] = set()
MAX_REMEMBERED_KEYS = 4096


def _remember_valid(key: object) -> str:
    checked = _check_key(key)
    if len(_valid_keys) >= MAX_REMEMBERED_KEYS:
        _valid_keys.clear()
    _valid_keys.add(checked)
    return checked


# The C scanner behind json.loads, without its per-call encoding sniffing and regex
# whitespace skips: statekit writes canonical JSON, so the whole text must be one
# value (checked by the end offset); anything else falls back to json.loads, whose
# error then says what is wrong.
_scan_once = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def decode(data: Data, key: str = "<cache>") -> Any:
    """The value of cached JSON text (str, or UTF-8 bytes as Redis returns it)."""
    try:
        text = data if type(data) is str else data.decode()  # type: ignore[union-attr]
        try:
            value, end = _scan_once(text, 0)
            if end == len(text):
                return value
        except (StopIteration, ValueError):
            pass
        return json.loads(text)  # JSON another writer spaced differently, or an error
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise InvalidValue(key, f"the cached text is not JSON: {exc}") from None


class Cache(SharedClient):
    """get/set/delete/get_many/set_many with TTL; values are JSON-compatible."""

    backend: CacheBackend

    def __init__(self, backend: CacheBackend, *, default_ttl: float | None = None) -> None:
        self.backend = backend
        self.default_ttl = default_ttl
        self._default_ttl_ms = ttl_ms(default_ttl)
        # Bound once: the hit path does no attribute walk through ``self.backend``.
        self._backend_get = backend.get

    def get(self, key: str, default: Any = None) -> Any:
        """The cached value, or ``default`` on a miss (a cached JSON ``null`` is a hit)."""
        if type(key) is not str or key not in _valid_keys:
            _remember_valid(key)
        data = self._backend_get(key)
        if data is None:
            return default
        # ``decode`` inlined: this is the benchmarked hit path.
        try:
            text = data if type(data) is str else data.decode()  # type: ignore[union-attr]
            value, end = _scan_once(text, 0)
            if end == len(text):
                return value
        except (StopIteration, ValueError):
            pass
        return decode(data, key)  # raises InvalidValue naming the key

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The hits among ``keys``, by key (misses are left out); one round trip on Redis."""
        if isinstance(keys, str):
            raise InvalidOption(f"keys must be a list of keys, not one string {keys!r}")
        wanted = list(dict.fromkeys(_check_key(key) for key in keys))
        if not wanted:
            return {}
        found = self.backend.get_many(wanted)
        return {
            key: decode(data, key)
            for key, data in zip(wanted, found, strict=True)
            if data is not None
        }

    def set(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (default: the cache's ``default_ttl``)."""
        data = rules.encode_value(_check_key(key), value)
        self.backend.set(key, data, self._default_ttl_ms if ttl is None else ttl_ms(ttl))

    def set_many(
        self, items: Mapping[str, Any] | Iterable[tuple[str, Any]], *, ttl: float | None = None
    ) -> None:
        """Store every pair with one TTL; every key and value is checked before any write."""
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        encoded = [(key, rules.encode_value(_check_key(key), value)) for key, value in pairs]
        if encoded:
            self.backend.set_many(encoded, self._default_ttl_ms if ttl is None else ttl_ms(ttl))

    def delete(self, key: str) -> bool:
        return self.backend.delete(_check_key(key))

    def __repr__(self) -> str:
        return f"<Cache backend={self.backend.name}>"


def open_cache(url: str | None = None) -> Cache:
    """The cache named by ``url``, or ``$STATEKIT_CACHE_URL``, or an in-process LRU.

    One Cache per URL per process (``statekit.clients.shared``): a warm invocation
    reuses the cold start's pool."""
    return open_shared(
        "cache", url, CACHE_URL_VARIABLE, DEFAULT_CACHE_URL, lambda backend, _url: Cache(backend)
    )
