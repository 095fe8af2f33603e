"""Cache-aside over a store: reads fill the cache, writes invalidate it, misses fly once.

Guarantees, per process:

* A cached value never outlives the cache-aside TTL, nor the item's own
  ``expires_at`` (the fill's TTL is the smaller of the two).
* A value is never older than a write this process made through the same
  ``Store`` object: every such write (through this helper or straight on the
  store) invalidates the cached copy before the write call returns, through
  ``Store.add_write_listener``.
* The stale-fill race is closed: a reader that read the store *before* a
  concurrent write but fills the cache *after* that write's invalidation would
  leave the old value cached until its TTL. Each key hashes to one of a fixed
  set of stripes holding a generation counter; an invalidation bumps it and a
  fill is dropped unless the generation it saw before its store read is still
  current. Fill-check-set and bump-delete hold the stripe's lock, so they are
  ordered. (A bump may drop fills of other keys of the stripe: that costs a
  miss, never a stale value.)
* A burst of concurrent misses on one key makes one store read (single-flight):
  the first caller reads and fills, the others wait for its result. A write
  detaches the flight, so a reader arriving after the write starts a new read.

A cache outage never fails a store write, and never serves a stale value here:

* The store write commits first; its invalidation is bounded by the cache's
  own timeouts and retries (``CACHE_ATTEMPTS`` tries, about 3 s worst case on
  Redis). If the delete still fails, the write returns normally: the failure
  is logged (logger ``statekit.cache``, a warning), counted in
  ``cache_errors`` and passed to ``on_cache_error(operation, key, error)``.
* The stale entry is made harmless in this process: the key is *suspect*
  until a later delete succeeds or the cache-aside TTL has passed (by then
  the entry has expired from the cache, whatever happened). A suspect key is
  read from the store and not cached; each read retries the delete first.
  Other processes see the stale entry at most until the TTL, the same bound
  as for any write they do not see.
* A cache read or fill that fails is a miss: the value comes from the store.

Across processes: a process that writes through its own ``CacheAside`` over the
same Redis cache deletes the shared key too, but the generation check is per
process, so a fill racing another process's write can leave the old value until
the TTL; with the in-process ``memory://`` cache, other processes' writes are not
seen before the TTL at all. Writes that bypass statekit are only bounded by the
TTL. Keep the TTL as short as that staleness may be.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import weakref
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from statekit.cache.facade import Cache, ttl_ms
from statekit.errors import InvalidOption, StatekitError
from statekit.store import Capability, Item, Store
from statekit.store.rules import check_key

STRIPES = 256
log = logging.getLogger("statekit.cache")
CacheErrorHook = Callable[[str, str, BaseException], None]
_MISSING = object()

# One write listener per Store, fanning out to that store's live helpers: a helper
# made per invocation (instead of once per process) is collected when dropped,
# instead of leaving a listener behind on the store for every invocation.
_helpers: weakref.WeakKeyDictionary[Store, weakref.WeakSet[CacheAside]] = (
    weakref.WeakKeyDictionary()
)
_helpers_lock = threading.Lock()


def _attach(store: Store, helper: CacheAside) -> None:
    with _helpers_lock:
        helpers = _helpers.get(store)
        if helpers is None:
            helpers = _helpers[store] = weakref.WeakSet()
            store.add_write_listener(functools.partial(_invalidate_all, helpers))
        helpers.add(helper)


def _invalidate_all(helpers: weakref.WeakSet[CacheAside], key: str) -> None:
    for helper in list(helpers):
        helper._invalidate(key)


@dataclass
class _Stripe:
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None


class CacheAside:
    """``get`` through the cache; ``put``/``delete``/``update`` through the store."""

    def __init__(
        self,
        store: Store,
        cache: Cache,
        *,
        ttl: float,
        prefix: str = "",
        on_cache_error: CacheErrorHook | None = None,
    ) -> None:
        if not isinstance(store, Store):
            raise InvalidOption(f"store must be a statekit Store, got {type(store).__name__}")
        if not isinstance(cache, Cache):
            raise InvalidOption(f"cache must be a statekit Cache, got {type(cache).__name__}")
        if type(prefix) is not str:
            raise InvalidOption(f"prefix must be a string, got {prefix!r}")
        if ttl is None:
            raise InvalidOption("cache-aside needs a ttl: it bounds staleness from other processes")
        ttl_ms(ttl)  # validates: a positive number of seconds
        self.store = store
        self.cache = cache
        self.ttl = float(ttl)
        self.prefix = prefix
        self._stripes = [_Stripe() for _ in range(STRIPES)]
        self._flights: dict[str, _Flight] = {}
        self._flights_lock = threading.Lock()
        # Keys whose invalidation failed -> time.monotonic() after which the stale
        # entry has expired from the cache in any case (see the module docstring).
        self._suspect: dict[str, float] = {}
        self.cache_errors = 0  # cache calls that failed (a counter for metrics)
        self.on_cache_error = on_cache_error
        _attach(store, self)

    # -- reads -------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``: from the cache, else from the store (then cached)."""
        if type(key) is not str:
            check_key(key)  # raises InvalidKey naming the key, before any concatenation
        if self._suspect and key in self._suspect and not self._cleared(key):
            item = self.store.get(key)  # the cached copy may be stale: do not use or fill it
            return default if item is None else item.value
        try:
            value = self.cache.get(self.prefix + key, _MISSING)
        except StatekitError as exc:
            self._report("get", key, exc)
            value = _MISSING
        if value is not _MISSING:
            return value
        value = self._load(key)
        return default if value is _MISSING else value

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """Values of the keys that exist, in the order asked: cache hits in one round
        trip, the misses from the store in one batch (then cached, each checked
        against writes like ``get``). Batch misses are not single-flighted."""
        if isinstance(keys, str):
            raise InvalidOption(f"keys must be a list of keys, not one string {keys!r}")
        wanted = list(dict.fromkeys(check_key(key) for key in keys))
        try:
            hits = self.cache.get_many([self.prefix + key for key in wanted])
        except StatekitError as exc:
            self._report("get_many", wanted[0] if wanted else "", exc)
            hits = {}
        found = {
            key: hits[self.prefix + key]
            for key in wanted
            if self.prefix + key in hits and not (self._suspect and key in self._suspect)
        }
        missing = [key for key in wanted if key not in found]
        if missing:
            generations = [self._stripe(key).generation for key in missing]
            if Capability.BATCH in self.store.capabilities:
                items = self.store.get_many(missing)
            else:
                items = {key: self.store.get(key) for key in missing}
            for key, generation in zip(missing, generations, strict=True):
                item = items.get(key)
                if item is not None:
                    found[key] = item.value
                    self._fill(key, item, generation)
        return {key: found[key] for key in wanted if key in found}

    def _load(self, key: str) -> Any:
        with self._flights_lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value
        try:
            flight.value = self._read_and_fill(key)
            return flight.value
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._flights_lock:
                if self._flights.get(key) is flight:  # a write may have detached it already
                    del self._flights[key]
            flight.done.set()

    def _read_and_fill(self, key: str) -> Any:
        generation = self._stripe(key).generation  # before the store read: see the docstring
        item = self.store.get(key)
        if item is None:
            return _MISSING
        self._fill(key, item, generation)
        return item.value

    def _fill(self, key: str, item: Item, generation: int) -> None:
        """Cache ``item`` unless a write invalidated its stripe since ``generation``."""
        ttl = self._fill_ttl(item)
        if ttl is None or (self._suspect and key in self._suspect):
            return
        stripe = self._stripe(key)
        with stripe.lock:
            if stripe.generation == generation:
                try:
                    self.cache.set(self.prefix + key, item.value, ttl=ttl)
                except StatekitError as exc:
                    self._report("fill", key, exc)

    def _fill_ttl(self, item: Item) -> float | None:
        if item.expires_at is None:
            return self.ttl
        remaining = item.expires_at - time.time()
        if remaining <= 0:
            return None  # expired while we read it: do not cache
        return min(self.ttl, remaining)

    # -- writes (through the store; the listener invalidates) --------------------------
    def put(self, key: str, value: Any, **options: Any) -> Item:
        """``Store.put`` (same options: ``if_match``, ``if_absent``, ``ttl``)."""
        return self.store.put(key, value, **options)

    def delete(self, key: str, **options: Any) -> bool:
        return self.store.delete(key, **options)

    def update(self, key: str, change: Callable[[Any], Any], **options: Any) -> Item:
        return self.store.update(key, change, **options)

    def invalidate(self, key: str) -> None:
        """Drop the cached copy of ``key`` (for writes made by other means)."""
        self._invalidate(key)

    def _invalidate(self, key: str) -> None:
        stripe = self._stripe(key)
        with self._flights_lock:
            self._flights.pop(key, None)  # later readers must not join a pre-write read
        with stripe.lock:
            stripe.generation += 1  # first: fills in flight are dropped even if the delete fails
            try:
                self.cache.delete(self.prefix + key)
            except StatekitError as exc:
                self._suspect[key] = time.monotonic() + self.ttl
                self._report("invalidate", key, exc)
                return
        self._suspect.pop(key, None)

    def _cleared(self, key: str) -> bool:
        """Whether suspect ``key`` is clean again: its TTL has passed, or a delete now works."""
        deadline = self._suspect.get(key)
        if deadline is None or time.monotonic() >= deadline:
            self._suspect.pop(key, None)
            return True
        self._invalidate(key)
        return key not in self._suspect

    def _report(self, operation: str, key: str, error: BaseException) -> None:
        """A cache failure is logged and counted, never raised: the store is the truth."""
        self.cache_errors += 1
        log.warning(
            "cache-aside: cache %s of key %r failed (%s); served from the store%s",
            operation,
            key,
            error,
            "; the key is read from the store until the cache-aside ttl has passed"
            if operation == "invalidate"
            else "",
        )
        if self.on_cache_error is not None:
            try:
                self.on_cache_error(operation, key, error)
            except Exception:  # a metrics hook must not fail the caller either
                log.exception("cache-aside: on_cache_error hook failed")

    def _stripe(self, key: str) -> _Stripe:
        return self._stripes[zlib.crc32(key.encode("utf-8")) % STRIPES]

    def __repr__(self) -> str:
        return f"<CacheAside store={self.store!r} cache={self.cache!r} ttl={self.ttl}>"
