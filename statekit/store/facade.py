"""The store: one meaning of key-value state on every backend.

``open_store(url)`` picks the backend from ``STATEKIT_STORE_URL`` (default: the
embedded SQLite file under ``.statekit/``). ``Store`` holds every shared rule
(validation, size limit, TTL arithmetic, the update loop, cursors, capability
gates) and calls the backend's translation hooks (``statekit.store.backend``).

Partitions: the partition of a key is the text before its first ``/`` (the
whole key if it has none). Transactions and prefix listings stay inside one
partition, because that is what every backend can do atomically and cheaply.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from statekit.clients.shared import SharedClient, open_shared
from statekit.errors import (
    BackendUnavailable,
    Conflict,
    CrossPartitionTransaction,
    InvalidKey,
    InvalidOption,
    InvalidTransaction,
    InvalidValue,
    StatekitError,
)
from statekit.store import rules
from statekit.store.backend import (
    NO_CONDITION,
    PreparedCheck,
    PreparedDelete,
    PreparedOp,
    PreparedPut,
    StoreBackend,
    WriteCondition,
)
from statekit.store.types import (
    BatchResult,
    Capability,
    Check,
    Delete,
    Item,
    Limits,
    Operation,
    Page,
    Put,
    WriteListener,
)

STORE_URL_VARIABLE = "STATEKIT_STORE_URL"
DEFAULT_STORE_URL = "sqlite://"
DEFAULT_UPDATE_ATTEMPTS = 32
# update's backoff window: from one round trip (at least MIN) doubling up to MAX seconds.
MIN_UPDATE_BACKOFF = 0.0005
MAX_UPDATE_BACKOFF = 1.0
MAX_LIST_LIMIT = 1000
log = logging.getLogger("statekit.store")


def _condition(key: str, if_match: object, if_absent: object) -> WriteCondition:
    if if_match is not None and (type(if_match) is not str or not if_match):
        raise InvalidOption(f"if_match for key {key!r} must be an etag string, got {if_match!r}")
    if type(if_absent) is not bool:
        raise InvalidOption(f"if_absent for key {key!r} must be True or False, got {if_absent!r}")
    if if_match is not None and if_absent:
        raise InvalidOption(f"key {key!r}: if_match and if_absent cannot both be set")
    if if_match is None and not if_absent:
        return NO_CONDITION
    return WriteCondition(if_match, if_absent)


_ABSENT = WriteCondition(None, True)


class Store(SharedClient):
    """Key-value state with etags, TTL, transactions and listing, on any backend."""

    backend: StoreBackend

    def __init__(self, backend: StoreBackend) -> None:
        self.backend = backend
        self._listeners: list[WriteListener] = []
        # Only an instrumented backend has it (statekit.observability): ``update`` then
        # gets a span of its own with the attempts it took; otherwise nothing changes.
        traced_update = getattr(backend, "traced_update", None)
        if traced_update is not None:
            self.update = traced_update(self.update)  # type: ignore[method-assign]
        self.listener_errors = 0  # write listeners that raised (counted, logged, not raised)

    # -- introspection -----------------------------------------------------------------
    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.backend.capabilities

    @property
    def limits(self) -> Limits:
        return self.backend.limits

    def add_write_listener(self, listener: WriteListener) -> None:
        """Call ``listener(key)`` after every successful write through this store.

        The cache-aside helper uses it so that a write made in this process
        invalidates the cached copy before the write call returns. A listener that
        raises is logged and counted (``listener_errors``); the committed write
        still returns normally.
        """
        self._listeners.append(listener)

    def _written(self, keys: Iterable[str]) -> None:
        # The write has committed: a listener (cache invalidation) that fails must not
        # turn it into an error for the caller, who would retry work that is done.
        for listener in self._listeners:
            for key in keys:
                try:
                    listener(key)
                except Exception as exc:
                    self.listener_errors += 1
                    log.warning(
                        "store: a write listener failed after the write of key %r had "
                        "committed (%s: %s); the write stands",
                        key,
                        type(exc).__name__,
                        exc,
                    )

    # -- single items ------------------------------------------------------------------
    def get(self, key: str) -> Item | None:
        return self.backend.get(rules.check_key(key), time.time())

    def put(
        self,
        key: str,
        value: Any,
        *,
        if_match: str | None = None,
        if_absent: bool = False,
        ttl: float | None = None,
    ) -> Item:
        return self._write(self._prepare_put(key, value, if_match, if_absent, ttl))

    def _write(self, op: PreparedPut) -> Item:
        etag = self.backend.put(op, time.time())
        item = op.item
        if self._listeners:
            self._written((item.key,))
        return item if etag == item.etag else item._replace(etag=etag)

    def _prepare_put(
        self, key: str, value: Any, if_match: str | None, if_absent: bool, ttl: float | None
    ) -> PreparedPut:
        rules.check_key(key)
        if if_match is None and if_absent is False:  # the common case, kept cheap
            condition = NO_CONDITION
        else:
            condition = _condition(key, if_match, if_absent)
            self._require(Capability.CONDITIONAL_WRITES)
        expiry = None
        if ttl is not None:
            self._require(Capability.TTL)
            expiry = rules.expires_at(ttl)
        data = rules.encode_value(key, value)
        return PreparedPut(Item(key, value, rules.new_etag(), expiry), data, condition)

    def delete(self, key: str, *, if_match: str | None = None) -> bool:
        rules.check_key(key)
        condition = _condition(key, if_match, False)
        if condition is not NO_CONDITION:
            self._require(Capability.CONDITIONAL_WRITES)
        deleted = self.backend.delete(key, condition, time.time())
        if self._listeners:
            self._written((key,))
        return deleted

    def update(
        self,
        key: str,
        change: Callable[[Any], Any],
        *,
        ttl: float | None = None,
        attempts: int = DEFAULT_UPDATE_ATTEMPTS,
    ) -> Item:
        """Read-modify-write: ``change(current_value_or_None)`` returns the new value.

        Each attempt writes with ``if_match`` (or ``if_absent`` when missing); on a
        conflict ``change`` runs again on the fresh value, after a jittered
        backoff, at most ``attempts`` times, then ``Conflict`` is raised.

        Retries: the first goes at once when the conflict carried the current item
        (``Conflict.current``: the freshest state there is). Later ones wait a full
        jitter over a window that starts at the write's measured round trip and
        doubles per conflict (up to ``MAX_UPDATE_BACKOFF`` seconds), then read the
        item *after* the wait: a state read before the wait is stale by then (the
        other writers went on), which made a retrying writer lose to writers
        starting fresh, round after round (issue 13: starvation at 8 x 25 on
        DynamoDB). 8 writers x 50 updates of one key finish with the default
        attempts on every backend (tests/conformance).

        A write whose outcome is unknown (``BackendUnavailable.outcome_unknown``,
        e.g. after a timeout) is settled by reading the item back: our own etag
        there means it was applied (the item is returned); the etag we conditioned
        on (or still no item) means it was not, and the loop goes on, which is
        safe because the write is conditional. Anything else cannot be told apart
        from another writer's change, so the error is raised as it came.
        """
        rules.check_key(key)
        self._require(Capability.CONDITIONAL_WRITES)
        if type(attempts) is not int or attempts < 1:
            raise InvalidOption(
                f"attempts for key {key!r} must be a positive int, got {attempts!r}"
            )
        if ttl is not None:
            self._require(Capability.TTL)
            rules.expires_at(ttl)  # a bad ttl fails before the first read
        # The key and options are checked once above; each attempt goes straight to
        # the backend (the loop is a hot path: benchmarks/store_embedded.py).
        backend = self.backend
        current = backend.get(key, time.time())
        for attempt in range(attempts):
            new_value = change(None if current is None else current.value)
            condition = _ABSENT if current is None else WriteCondition(current.etag)
            expiry = None if ttl is None else rules.expires_at(ttl)
            item = Item(key, new_value, rules.new_etag(), expiry)
            sent = time.monotonic()
            try:
                return self._write(PreparedPut(item, rules.encode_value(key, new_value), condition))
            except Conflict as conflict:
                if attempt + 1 == attempts:
                    break
                if attempt == 0 and conflict.current_reported:
                    # The refusal carried the item as it is now: the freshest state there
                    # is, so the first retry goes at once, without a read.
                    current = conflict.current
                    continue
                # Full jitter over a window from one round trip, doubling per conflict.
                window = max(MIN_UPDATE_BACKOFF, time.monotonic() - sent) * 2 ** min(attempt, 16)
                time.sleep(random.uniform(0, min(MAX_UPDATE_BACKOFF, window)))
                # Read after the wait, never before it: other writers went on meanwhile,
                # and a state from before the wait would make the retry lose for sure.
                current = backend.get(key, time.time())
            except BackendUnavailable as unavailable:
                if not unavailable.outcome_unknown:
                    raise
                settled = backend.get(key, time.time())  # may raise BackendUnavailable too
                if settled is not None and settled.etag == item.etag:
                    if self._listeners:
                        self._written((key,))
                    return settled
                unchanged = (
                    settled is None
                    if current is None
                    else (settled is not None and settled.etag == current.etag)
                )
                if not unchanged or attempt + 1 == attempts:
                    raise
        raise Conflict(key, f"update gave up after {attempts} attempts; the item kept changing")

    def increment(self, key: str, by: int = 1) -> int:
        """Atomically add ``by`` to an integer value (missing counts as 0); keeps its TTL.

        The sum is exact or refused: a result beyond ``limits.max_counter`` (64-bit
        signed on Redis and Firestore, +-(2**53-1) on Cosmos DB, 38 digits on DynamoDB)
        raises ``InvalidValue`` and leaves the stored value as it was.
        """
        rules.check_key(key)
        self._require(Capability.INCREMENT)
        if type(by) is not int:
            raise InvalidOption(f"increment of key {key!r}: by must be an int, got {by!r}")
        bound = self.backend.limits.max_counter
        if bound is not None and not -bound <= by <= bound:
            raise InvalidValue(
                key,
                f"increment by {by} is beyond what {self.backend.name} counts exactly (+-{bound})",
            )
        result = self.backend.increment(key, by, rules.new_etag(), time.time())
        if self._listeners:
            self._written((key,))
        return result

    # -- batches -----------------------------------------------------------------------
    def get_many(self, keys: Iterable[str]) -> dict[str, Item | None]:
        """Items by key, in the order asked, ``None`` for each missing key."""
        self._require(Capability.BATCH)
        wanted = list(dict.fromkeys(rules.check_key(key) for key in _iterable(keys, "keys")))
        found = self.backend.get_many(wanted, time.time()) if wanted else {}
        return {key: found.get(key) for key in wanted}

    def put_many(
        self, items: Mapping[str, Any] | Iterable[tuple[str, Any]], *, ttl: float | None = None
    ) -> BatchResult:
        """Unconditional writes in native batches; every key is validated before any write."""
        self._require(Capability.BATCH)
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        expiry = None
        if ttl is not None:
            self._require(Capability.TTL)
            expiry = rules.expires_at(ttl)  # one instant for the whole batch
        # One comprehension, no per-item call into _prepare_put: a batch is the place
        # where per-item overhead adds up (benchmarks/store_embedded.py).
        check, encode, new_etag = rules.check_key, rules.encode_value, rules.new_etag
        ops = [
            PreparedPut(
                Item(check(key), value, new_etag(), expiry), encode(key, value), NO_CONDITION
            )
            for key, value in pairs
        ]
        if len({op.item.key for op in ops}) != len(ops):
            seen: set[str] = set()
            for op in ops:
                if op.item.key in seen:
                    raise InvalidKey(op.item.key, "appears more than once in one put_many")
                seen.add(op.item.key)
        outcome = self.backend.put_many(ops, time.time()) if ops else {}
        if not outcome:  # every key written with the etag statekit proposed
            written = {op.item.key: op.item for op in ops}
            result = BatchResult(succeeded=list(written), items=written)
            if self._listeners:
                self._written(result.succeeded)
            return result
        failed: dict[str, StatekitError] = {}
        stored: dict[str, str] = {}
        for key, what in outcome.items():
            if isinstance(what, str):
                stored[key] = what
            else:
                failed[key] = what
        written = {}
        for op in ops:
            item = op.item
            if item.key in failed:
                continue
            etag = stored.get(item.key, item.etag)  # the service's own etag, where it makes one
            written[item.key] = (
                item if etag == item.etag else Item(item.key, item.value, etag, item.expires_at)
            )
        result = BatchResult(succeeded=list(written), failed=failed, items=written)
        if self._listeners:
            self._written(result.succeeded)
        return result

    def delete_many(self, keys: Iterable[str]) -> BatchResult:
        self._require(Capability.BATCH)
        wanted = list(dict.fromkeys(rules.check_key(key) for key in _iterable(keys, "keys")))
        failed = self.backend.delete_many(wanted, time.time()) if wanted else {}
        result = BatchResult(failed=failed, succeeded=[k for k in wanted if k not in failed])
        if self._listeners:
            self._written(result.succeeded)
        return result

    # -- transactions ------------------------------------------------------------------
    def transact(self, ops: Iterable[Operation]) -> list[Item | None]:
        """All-or-nothing over distinct keys of one partition.

        Returns, per operation, the written ``Item`` for a ``Put`` and ``None``
        for a ``Delete`` or ``Check``. A failed condition raises ``Conflict``
        naming the key, and nothing is applied.
        """
        self._require(Capability.TRANSACTIONS)
        ops = list(ops)
        if not ops:
            raise InvalidTransaction("a transaction needs at least one operation")
        limit = self.backend.limits.max_transaction_ops
        if len(ops) > limit:
            raise InvalidTransaction(
                f"a transaction has at most {limit} operations on {self.backend.name}; got {len(ops)}"
            )
        prepared: list[PreparedOp] = []
        partitions: dict[str, None] = {}
        seen: set[str] = set()
        for op in ops:
            if isinstance(op, Put):
                prepared.append(
                    self._prepare_put(op.key, op.value, op.if_match, op.if_absent, op.ttl)
                )
            elif isinstance(op, Delete):
                rules.check_key(op.key)
                prepared.append(PreparedDelete(op.key, _condition(op.key, op.if_match, False)))
            elif isinstance(op, Check):
                rules.check_key(op.key)
                condition = _condition(op.key, op.if_match, op.if_absent)
                if not condition.is_conditional:
                    raise InvalidTransaction(f"Check on key {op.key!r} needs if_match or if_absent")
                prepared.append(PreparedCheck(op.key, condition))
            else:
                raise InvalidTransaction(
                    f"not a transaction operation: {op!r} (use Put, Delete, Check)"
                )
            if op.key in seen:
                raise InvalidTransaction(
                    f"key {op.key!r} appears more than once in one transaction"
                )
            seen.add(op.key)
            partitions[rules.partition_of(op.key)] = None
        if len(partitions) > 1:
            raise CrossPartitionTransaction(list(partitions))
        etags = self.backend.transact(prepared, time.time())
        results: list[Item | None] = []
        for op_prepared, etag in zip(prepared, etags, strict=True):
            if isinstance(op_prepared, PreparedPut):
                item = op_prepared.item
                results.append(
                    item
                    if etag in (None, item.etag)
                    else Item(item.key, item.value, etag, item.expires_at)
                )
            else:
                results.append(None)
        if self._listeners:
            self._written(seen)
        return results

    # -- listing -----------------------------------------------------------------------
    def list(self, prefix: str, *, limit: int = 100, cursor: str | None = None) -> Page:
        """Live items whose key starts with ``prefix`` (which names one partition), by key."""
        self._require(Capability.LIST)
        rules.check_prefix(prefix)
        if type(limit) is not int or not 1 <= limit <= MAX_LIST_LIMIT:
            raise InvalidOption(f"limit must be an int from 1 to {MAX_LIST_LIMIT}, got {limit!r}")
        after = rules.decode_cursor(prefix, cursor) if cursor is not None else None
        # One extra item tells whether another page exists, so the last page has no cursor.
        items = self.backend.list(prefix, after, limit + 1, time.time())
        if len(items) > limit:
            items = items[:limit]
            return Page(items, rules.encode_cursor(prefix, items[-1].key))
        return Page(items, None)

    def iter_prefix(self, prefix: str, *, page_size: int = 100) -> Iterator[Item]:
        cursor: str | None = None
        while True:
            page = self.list(prefix, limit=page_size, cursor=cursor)
            yield from page.items
            if page.cursor is None:
                return
            cursor = page.cursor

    def __repr__(self) -> str:
        return f"<Store backend={self.backend.name}>"


def _iterable(values: Iterable[str], what: str) -> Iterable[str]:
    if isinstance(values, str):
        raise InvalidOption(f"{what} must be a list of keys, not one string {values!r}")
    return values


def open_store(url: str | None = None) -> Store:
    """The store named by ``url``, or ``$STATEKIT_STORE_URL``, or the embedded SQLite file.

    One Store per URL per process (``statekit.clients.shared``)."""
    return open_shared(
        "store", url, STORE_URL_VARIABLE, DEFAULT_STORE_URL, lambda backend, _url: Store(backend)
    )
