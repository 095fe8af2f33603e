"""In-process store: thread-safe, for tests and single-process tools.

Values are kept as their JSON text so a caller mutating a returned value (or
the one it passed in) can never change what is stored. ``memory://NAME`` names
a space shared by every Store of the process; ``memory://`` is private.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from statekit.errors import InvalidValue, StatekitError
from statekit.store import rules
from statekit.store.backend import (
    PreparedCheck,
    PreparedOp,
    PreparedPut,
    StoreBackend,
    WriteCondition,
    condition_failed,
)
from statekit.store.types import ALL_CAPABILITIES, Item, Limits
from statekit.urls import ConnectionURL

Row = tuple[str, str, float | None]  # JSON text, etag, expires_at


@dataclass
class _Space:
    rows: dict[str, Row] = field(default_factory=dict)
    sorted_keys: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)


_named_spaces: dict[str, _Space] = {}
_named_lock = threading.Lock()


class MemoryStore(StoreBackend):
    name = "memory"
    capabilities = ALL_CAPABILITIES
    limits = Limits(
        max_value_bytes=rules.MAX_VALUE_BYTES,
        max_transaction_ops=1000,
        batch_read_chunk=1000,
        batch_write_chunk=1000,
        ttl_precision="exact (float seconds, filtered on read)",
        consistency="strong (one lock)",
        notes="one process only; gone when it exits",
    )

    def __init__(self, space: _Space | None = None) -> None:
        self._space = space or _Space()

    @classmethod
    def from_url(cls, url: ConnectionURL) -> MemoryStore:
        url.require_known_params(())
        name = url.host + url.path
        if not name:
            return cls()
        with _named_lock:
            return cls(_named_spaces.setdefault(name, _Space()))

    def _live(self, key: str, now: float) -> Row | None:
        row = self._space.rows.get(key)
        if row is None or rules.is_expired(row[2], now):
            return None
        return row

    @staticmethod
    def _item(key: str, row: Row) -> Item:
        return Item(key, rules.decode_value(row[0]), row[1], row[2])

    def _set(self, key: str, row: Row) -> None:
        if key not in self._space.rows:
            bisect.insort(self._space.sorted_keys, key)
        self._space.rows[key] = row

    def _drop(self, key: str) -> None:
        if self._space.rows.pop(key, None) is not None:
            keys = self._space.sorted_keys
            del keys[bisect.bisect_left(keys, key)]

    def _check(self, key: str, cond: WriteCondition, now: float) -> None:
        row = self._live(key, now)
        failed = (cond.if_absent and row is not None) or (
            cond.if_match is not None and (row is None or row[1] != cond.if_match)
        )
        if failed:
            raise condition_failed(key, cond, None if row is None else self._item(key, row))

    def get(self, key: str, now: float) -> Item | None:
        with self._space.lock:
            row = self._live(key, now)
        return None if row is None else self._item(key, row)

    def get_many(self, keys: Sequence[str], now: float) -> dict[str, Item]:
        with self._space.lock:
            rows = {key: self._live(key, now) for key in keys}
        return {key: self._item(key, row) for key, row in rows.items() if row is not None}

    def put(self, op: PreparedPut, now: float) -> str:
        with self._space.lock:
            self._check(op.item.key, op.condition, now)
            self._set(op.item.key, (op.data, op.item.etag, op.item.expires_at))
        return op.item.etag

    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        with self._space.lock:
            self._check(key, condition, now)
            existed = self._live(key, now) is not None
            self._drop(key)
        return existed

    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        with self._space.lock:
            row = self._live(key, now)
            expiry = None if row is None else row[2]
            current = 0 if row is None else rules.decode_value(row[0])
            if type(current) is not int:
                raise InvalidValue(
                    key, "increment needs an integer value; the stored value is not one"
                )
            result = current + by
            # encode_value refuses (InvalidValue) an integer too long for JSON text.
            self._set(key, (rules.encode_value(key, result), etag, expiry))
        return result

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> dict[str, StatekitError]:
        with self._space.lock:
            for op in ops:
                self._set(op.item.key, (op.data, op.item.etag, op.item.expires_at))
        return {}

    def delete_many(self, keys: Sequence[str], now: float) -> dict[str, StatekitError]:
        with self._space.lock:
            for key in keys:
                self._drop(key)
        return {}

    def transact(self, ops: Sequence[PreparedOp], now: float) -> list[str | None]:
        with self._space.lock:
            # Check every condition first, then apply: all or nothing.
            for op in ops:
                key = op.item.key if isinstance(op, PreparedPut) else op.key
                self._check(key, op.condition, now)
            etags: list[str | None] = []
            for op in ops:
                if isinstance(op, PreparedPut):
                    self._set(op.item.key, (op.data, op.item.etag, op.item.expires_at))
                    etags.append(op.item.etag)
                elif isinstance(op, PreparedCheck):
                    etags.append(None)
                else:
                    self._drop(op.key)
                    etags.append(None)
        return etags

    def list(self, prefix: str, after: str | None, limit: int, now: float) -> list[Item]:
        items: list[Item] = []
        with self._space.lock:
            keys = self._space.sorted_keys
            start = (
                bisect.bisect_right(keys, after)
                if after is not None and after >= prefix
                else bisect.bisect_left(keys, prefix)
            )
            for key in keys[start:]:
                if not key.startswith(prefix) or len(items) >= limit:
                    break
                row = self._live(key, now)
                if row is not None:
                    items.append(self._item(key, row))
        return items
