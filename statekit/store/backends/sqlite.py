"""The embedded default store: one SQLite file in WAL mode.

Correct with several processes writing at once: every conditional write is a
single statement (SQLite serializes writers), transactions take the write lock
up front (``BEGIN IMMEDIATE``), and readers never block writers under WAL.
Expired rows are invisible to every statement and swept on open and every
``SWEEP_EVERY`` writes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from statekit.clients.sqlite import SQLiteFile, sqlite_path
from statekit.errors import BackendUnavailable, Conflict, InvalidValue, StatekitError
from statekit.store import rules
from statekit.store.backend import (
    PreparedCheck,
    PreparedOp,
    PreparedPut,
    StoreBackend,
    WriteCondition,
)
from statekit.store.types import ALL_CAPABILITIES, Item, Limits
from statekit.urls import ConnectionURL

SWEEP_EVERY = 1000
_LIVE = "(exp IS NULL OR exp > ?)"
_GET = f"SELECT v, etag, exp FROM items WHERE k = ? AND {_LIVE}"
_FAST_BY = 2**62
# Adds when the live value is an integer short enough that ``+ by`` cannot overflow;
# restarts an expired item at ``by``; otherwise changes nothing and returns no row.
_INCREMENT_FAST = (
    "INSERT INTO items (k, v, etag, exp) VALUES (?, ?, ?, NULL) ON CONFLICT(k) DO UPDATE SET "
    "v = CASE WHEN items.exp <= ? THEN excluded.v ELSE CAST(items.v AS INTEGER) + ? END, "
    "exp = CASE WHEN items.exp <= ? THEN NULL ELSE items.exp END, etag = excluded.etag "
    "WHERE items.exp <= ? OR (json_type(items.v) = 'integer' AND length(items.v) <= 18) "
    "RETURNING v"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    k TEXT PRIMARY KEY,
    v TEXT NOT NULL,
    etag TEXT NOT NULL,
    exp REAL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_exp ON items(exp) WHERE exp IS NOT NULL;
"""


class SQLiteStore(SQLiteFile, StoreBackend):
    name = "sqlite"
    capabilities = ALL_CAPABILITIES
    limits = Limits(
        max_value_bytes=1_000_000_000,
        max_transaction_ops=1000,
        batch_read_chunk=500,
        batch_write_chunk=500,
        ttl_precision="exact (float seconds, filtered on read)",
        consistency="strong (serializable writes)",
        notes="one file, WAL; safe across processes on one machine",
    )

    def __init__(self, path: str) -> None:
        self._writes = 0
        self._open(path, _SCHEMA)
        self._sweep()

    @classmethod
    def from_url(cls, url: ConnectionURL) -> SQLiteStore:
        url.require_known_params(())
        return cls(sqlite_path(url, "store.db"))

    def _wrote(self, count: int = 1) -> None:
        self._writes += count
        if self._writes >= SWEEP_EVERY:
            self._writes = 0
            self._sweep()

    def _sweep(self) -> None:
        import time

        self._run("sweep", lambda c: c.execute("DELETE FROM items WHERE exp <= ?", (time.time(),)))

    @staticmethod
    def _row_item(key: str, row: tuple[str, str, float | None]) -> Item:
        return Item(key, rules.decode_value(row[0]), row[1], row[2])

    def _current(self, conn: sqlite3.Connection, key: str, now: float) -> Item | None:
        row = conn.execute(
            f"SELECT v, etag, exp FROM items WHERE k = ? AND {_LIVE}", (key, now)
        ).fetchone()
        return None if row is None else self._row_item(key, row)

    # -- hooks ---------------------------------------------------------------------------
    def get(self, key: str, now: float) -> Item | None:
        # Inlined (no _run closure): the read path is the hottest one.
        with self._lock:
            try:
                row = self._conn.execute(_GET, (key, now)).fetchone()
            except sqlite3.OperationalError as exc:
                raise BackendUnavailable(self.name, "get", exc) from None
        return None if row is None else Item(key, rules.decode_value(row[0]), row[1], row[2])

    def get_many(self, keys: Sequence[str], now: float) -> dict[str, Item]:
        def body(conn: sqlite3.Connection) -> dict[str, Item]:
            found: dict[str, Item] = {}
            for start in range(0, len(keys), self.limits.batch_read_chunk):
                chunk = keys[start : start + self.limits.batch_read_chunk]
                marks = ",".join("?" * len(chunk))
                rows = conn.execute(
                    f"SELECT k, v, etag, exp FROM items WHERE k IN ({marks}) AND {_LIVE}",
                    (*chunk, now),
                )
                for k, v, etag, exp in rows:
                    found[k] = self._row_item(k, (v, etag, exp))
            return found

        return self._run("get_many", body)

    def _write(self, conn: sqlite3.Connection, op: PreparedPut, now: float) -> bool:
        item, cond = op.item, op.condition
        if cond.if_match is not None:
            cur = conn.execute(
                f"UPDATE items SET v = ?, etag = ?, exp = ? WHERE k = ? AND etag = ? AND {_LIVE}",
                (op.data, item.etag, item.expires_at, item.key, cond.if_match, now),
            )
        elif cond.if_absent:
            # An expired row is absent: it may be overwritten by a first write.
            cur = conn.execute(
                "INSERT INTO items (k, v, etag, exp) VALUES (?, ?, ?, ?) ON CONFLICT(k) DO UPDATE "
                "SET v = excluded.v, etag = excluded.etag, exp = excluded.exp WHERE items.exp <= ?",
                (item.key, op.data, item.etag, item.expires_at, now),
            )
        else:
            cur = conn.execute(
                "INSERT INTO items (k, v, etag, exp) VALUES (?, ?, ?, ?) ON CONFLICT(k) DO UPDATE "
                "SET v = excluded.v, etag = excluded.etag, exp = excluded.exp",
                (item.key, op.data, item.etag, item.expires_at),
            )
        return cur.rowcount == 1

    def _conflict(
        self, conn: sqlite3.Connection, key: str, cond: WriteCondition, now: float
    ) -> Conflict:
        current = self._current(conn, key, now)
        if cond.if_absent:
            rule = "if_absent: the key already exists"
        elif current is None:
            rule = "if_match: the key does not exist"
        else:
            rule = "if_match: the etag no longer matches (the item changed)"
        return Conflict(key, rule, current, current_reported=True)

    def put(self, op: PreparedPut, now: float) -> str:
        # Inlined like get (no _run closure): put is the other hot path.
        with self._lock:
            try:
                if not self._write(self._conn, op, now):
                    raise self._conflict(self._conn, op.item.key, op.condition, now)
            except sqlite3.OperationalError as exc:
                raise BackendUnavailable(self.name, "put", exc) from None
        self._wrote()
        return op.item.etag

    def _remove(self, conn: sqlite3.Connection, key: str, cond: WriteCondition, now: float) -> bool:
        if cond.if_match is not None:
            cur = conn.execute(
                f"DELETE FROM items WHERE k = ? AND etag = ? AND {_LIVE}", (key, cond.if_match, now)
            )
            if cur.rowcount == 0:
                raise self._conflict(conn, key, cond, now)
            return True
        live = conn.execute(f"DELETE FROM items WHERE k = ? AND {_LIVE}", (key, now)).rowcount
        return live == 1

    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        return self._run("delete", lambda c: self._remove(c, key, condition, now))

    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        # SQLite integers are 64-bit and its ``+`` turns an overflow into an inexact REAL
        # (and CAST saturates a longer integer text), so the one-statement fast path only
        # takes sums that cannot overflow: a stored integer of at most 18 characters
        # (|v| < 10**18) plus |by| < 2**62. Anything else, including a miss of that
        # guard, is done exactly in Python inside one transaction.
        if -_FAST_BY < by < _FAST_BY:

            def fast(conn: sqlite3.Connection) -> int | None:
                row = conn.execute(
                    _INCREMENT_FAST, (key, str(by), etag, now, by, now, now)
                ).fetchone()
                return None if row is None else int(row[0])

            result = self._run("increment", fast)
            if result is not None:
                self._wrote()
                return result

        def exact(conn: sqlite3.Connection) -> int:
            with self._transaction(conn):
                row = conn.execute(
                    f"SELECT v, exp FROM items WHERE k = ? AND {_LIVE}", (key, now)
                ).fetchone()
                current = 0 if row is None else rules.decode_value(row[0])
                if type(current) is not int:
                    raise InvalidValue(
                        key, "increment needs an integer value; the stored value is not one"
                    )
                total = current + by
                conn.execute(
                    "INSERT INTO items (k, v, etag, exp) VALUES (?, ?, ?, ?) ON CONFLICT(k) "
                    "DO UPDATE SET v = excluded.v, etag = excluded.etag, exp = excluded.exp",
                    (key, rules.encode_value(key, total), etag, None if row is None else row[1]),
                )
                return total

        result = self._run("increment", exact)
        self._wrote()
        return result

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> dict[str, StatekitError]:
        rows = [(item.key, data, item.etag, item.expires_at) for item, data, _ in ops]

        def body(conn: sqlite3.Connection) -> None:
            with self._transaction(conn):
                conn.executemany(
                    "INSERT INTO items (k, v, etag, exp) VALUES (?, ?, ?, ?) ON CONFLICT(k) DO UPDATE "
                    "SET v = excluded.v, etag = excluded.etag, exp = excluded.exp",
                    rows,
                )

        self._run("put_many", body)  # one local transaction: all keys or an error
        self._wrote(len(rows))
        return {}

    def delete_many(self, keys: Sequence[str], now: float) -> dict[str, StatekitError]:
        def body(conn: sqlite3.Connection) -> None:
            with self._transaction(conn):
                conn.executemany("DELETE FROM items WHERE k = ?", [(k,) for k in keys])

        self._run("delete_many", body)
        return {}

    def transact(self, ops: Sequence[PreparedOp], now: float) -> list[str | None]:
        def body(conn: sqlite3.Connection) -> list[str | None]:
            etags: list[str | None] = []
            with self._transaction(conn):
                for op in ops:
                    if isinstance(op, PreparedPut):
                        if not self._write(conn, op, now):
                            raise self._conflict(conn, op.item.key, op.condition, now)
                        etags.append(op.item.etag)
                    elif isinstance(op, PreparedCheck):
                        current = self._current(conn, op.key, now)
                        if (op.condition.if_absent and current is not None) or (
                            op.condition.if_match is not None
                            and (current is None or current.etag != op.condition.if_match)
                        ):
                            raise self._conflict(conn, op.key, op.condition, now)
                        etags.append(None)
                    else:
                        self._remove(conn, op.key, op.condition, now)
                        etags.append(None)
            return etags

        etags = self._run("transact", body)
        self._wrote(len(ops))
        return etags

    def list(self, prefix: str, after: str | None, limit: int, now: float) -> list[Item]:
        upper = rules.prefix_upper_bound(prefix)
        low = after if after is not None and after >= prefix else prefix
        low_op = ">" if after is not None and after >= prefix else ">="
        sql = f"SELECT k, v, etag, exp FROM items WHERE k {low_op} ? AND {_LIVE}"
        args: list[object] = [low, now]
        if upper is not None:
            sql += " AND k < ?"
            args.append(upper)
        else:
            sql += " AND substr(k, 1, ?) = ?"
            args += [len(prefix), prefix]
        sql += " ORDER BY k LIMIT ?"
        args.append(limit)

        def body(conn: sqlite3.Connection) -> list[Item]:
            return [
                self._row_item(k, (v, etag, exp)) for k, v, etag, exp in conn.execute(sql, args)
            ]

        return self._run("list", body)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
