"""PostgreSQL store (psycopg 3, a 1-2 connection pool): Aurora, Flexible Server, Cloud SQL.

URL: ``postgresql://USER@HOST:PORT/DATABASE[?table=T][&password_env=VAR |
password_secret=ARN | auth=aws_iam|azure_entra|gcp_iam][&sslmode=verify-full]``
(connection parameters: ``statekit.clients.postgresql``). The pool is shared with a
PostgreSQL queue on the same URL.

One table (``statekit_items`` unless ``table=``), created on first use by idempotent
DDL under an advisory lock (no migration step to forget; a user without CREATE gets
an error naming the DDL to run once)::

    k text COLLATE "C" PRIMARY KEY, v text, etag text, exp double precision

* ``v`` is the canonical JSON **text**, not ``jsonb``: statekit never queries inside
  values, and text is stored and returned byte for byte (jsonb would re-parse every
  write, re-serialize every read, reorder object keys and refuse ``\\u0000``).
  ``increment`` still checks the text is an integer before adding, in SQL.
* ``COLLATE "C"`` orders keys by code point (UTF-8 byte order), the order of every
  other backend, and lets the primary key's B-tree serve a prefix listing as a range
  ``k >= prefix AND k < next(prefix)``: an index scan, never a sequential one.
* Every single-key write is **one statement** in autocommit (READ COMMITTED): the
  condition is the statement's ``WHERE``, evaluated on the row's latest version under
  its row lock, and a failed condition reports the item as the statement's snapshot
  saw it, so ``Conflict`` costs one round trip.
* ``transact`` is one database transaction (READ COMMITTED) that takes, in key order,
  a lock on every key it names before deciding, so its conditions still hold at
  commit and two transactions never deadlock; a missing key that is checked is held
  by an already-expired placeholder row, removed before commit.
* TTL: ``exp`` is epoch seconds; every read filters ``exp > now``, and an expired row
  is swept every ``SWEEP_EVERY`` writes of this process (bounded batches).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import psycopg

from statekit.clients.postgresql import (
    URL_PARAMS,
    SharedPool,
    release_pool,
    schema_ready,
    shared_pool,
)
from statekit.errors import BackendUnavailable, Conflict, InvalidValue, StatekitError
from statekit.store import rules
from statekit.store.backend import (
    ETAG_CHANGED,
    KEY_EXISTS,
    PreparedCheck,
    PreparedOp,
    PreparedPut,
    StoreBackend,
    WriteCondition,
    condition_failed,
)
from statekit.store.types import ALL_CAPABILITIES, Item, Limits
from statekit.urls import ConnectionURL

T = TypeVar("T")
DEFAULT_TABLE = "statekit_items"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,47}$")
SWEEP_EVERY = 1000
SWEEP_BATCH = 1000
BATCH_CHUNK = 1000
MAX_TRANSACTION_OPS = 1000
# A text value of PostgreSQL is at most 1 GB; statekit's portable limit is far below.
MAX_VALUE_BYTES = 1_000_000_000
_INTEGER = "'^-?(0|[1-9][0-9]*)$'"
_LIVE = "(exp IS NULL OR exp > %(now)s)"

Row = tuple[Any, ...]


def schema(table: str) -> str:
    return (
        f'CREATE TABLE IF NOT EXISTS {table} (k text COLLATE "C" PRIMARY KEY, '
        "v text NOT NULL, etag text NOT NULL, exp double precision);"
        f"CREATE INDEX IF NOT EXISTS {table}_exp ON {table} (exp) WHERE exp IS NOT NULL"
    )


class Statements:
    """The SQL of one table, built once (the table name is a checked identifier)."""

    def __init__(self, table: str) -> None:
        upsert = (
            f"INSERT INTO {table} AS t (k, v, etag, exp) VALUES (%(k)s, %(v)s, %(e)s, %(x)s) "
            "ON CONFLICT (k) DO UPDATE SET v = excluded.v, etag = excluded.etag, exp = excluded.exp"
        )
        # The snapshot of the key as the statement sees it, reported when a condition fails.
        seen = f"seen AS (SELECT v, etag, exp FROM {table} WHERE k = %(k)s AND {_LIVE})"
        outcome = (
            "SELECT (SELECT count(*) FROM w), seen.v, seen.etag, seen.exp "
            "FROM (VALUES (1)) AS one LEFT JOIN seen ON true"
        )
        self.get = f"SELECT v, etag, exp FROM {table} WHERE k = %s AND (exp IS NULL OR exp > %s)"
        self.get_many = (
            f"SELECT k, v, etag, exp FROM {table} WHERE k = ANY(%s) AND (exp IS NULL OR exp > %s)"
        )
        self.put = upsert
        self.put_if_match = (
            f"WITH {seen}, w AS (UPDATE {table} SET v = %(v)s, etag = %(e)s, exp = %(x)s "
            f"WHERE k = %(k)s AND etag = %(m)s AND {_LIVE} RETURNING 1) {outcome}"
        )
        # An expired row is absent: a first write may take its place.
        self.put_if_absent = (
            f"WITH {seen}, w AS ({upsert} WHERE t.exp <= %(now)s RETURNING 1) {outcome}"
        )
        self.delete = f"DELETE FROM {table} WHERE k = %s RETURNING (exp IS NULL OR exp > %s)"
        self.delete_if_match = (
            f"WITH {seen}, w AS (DELETE FROM {table} WHERE k = %(k)s AND etag = %(m)s "
            f"AND {_LIVE} RETURNING 1) {outcome}"
        )
        self.increment = (
            f"INSERT INTO {table} AS t (k, v, etag, exp) VALUES (%(k)s, %(by)s::text, %(e)s, NULL) "
            "ON CONFLICT (k) DO UPDATE SET "
            "v = CASE WHEN t.exp <= %(now)s THEN excluded.v "
            "ELSE (t.v::numeric + %(by)s)::text END, "
            "exp = CASE WHEN t.exp <= %(now)s THEN NULL ELSE t.exp END, etag = excluded.etag "
            f"WHERE t.exp <= %(now)s OR t.v ~ {_INTEGER} RETURNING v"
        )
        self.put_many = (
            f"INSERT INTO {table} AS t (k, v, etag, exp) "
            "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[]) "
            "ON CONFLICT (k) DO UPDATE SET v = excluded.v, etag = excluded.etag, exp = excluded.exp"
        )
        self.delete_many = f"DELETE FROM {table} WHERE k = ANY(%s)"
        self.lock_live = f"SELECT v, etag, exp FROM {table} WHERE k = %s FOR SHARE"
        self.placeholder = (
            f"INSERT INTO {table} (k, v, etag, exp) VALUES (%s, 'null', '', 0) "
            "ON CONFLICT (k) DO NOTHING RETURNING 1"
        )
        self.drop_placeholders = f"DELETE FROM {table} WHERE k = ANY(%s) AND etag = ''"
        self.list = (
            f"SELECT k, v, etag, exp FROM {table} WHERE k >= %(low)s AND k < %(high)s "
            f"AND {_LIVE} ORDER BY k LIMIT %(limit)s"
        )
        self.list_after = self.list.replace("k >= %(low)s", "k > %(low)s")
        # A prefix ending in U+10FFFF has no upper bound string: the range runs open.
        self.list_open = (
            f"SELECT k, v, etag, exp FROM {table} WHERE k >= %(low)s "
            f"AND starts_with(k, %(prefix)s) AND {_LIVE} ORDER BY k LIMIT %(limit)s"
        )
        self.sweep = (
            f"DELETE FROM {table} WHERE k IN (SELECT k FROM {table} WHERE exp <= %s "
            f"LIMIT {SWEEP_BATCH} FOR UPDATE SKIP LOCKED)"
        )


def _conflict(key: str, condition: WriteCondition, seen: Row | None) -> Conflict:
    """The Conflict of a failed single statement, with the item as its snapshot saw it.

    When the snapshot contradicts the failure (a concurrent writer committed between
    the snapshot and the row lock), it is stale: no ``current`` is reported, and the
    caller reads again.
    """
    current = None if seen is None else Item(key, rules.decode_value(seen[0]), seen[1], seen[2])
    if condition.if_absent and current is None:
        return Conflict(key, KEY_EXISTS)
    if not condition.if_absent and current is not None and current.etag == condition.if_match:
        return Conflict(key, ETAG_CHANGED)
    return condition_failed(key, condition, current)


class PostgreSQLStore(StoreBackend):
    name = "postgresql"
    capabilities = ALL_CAPABILITIES
    limits = Limits(
        max_value_bytes=MAX_VALUE_BYTES,
        max_transaction_ops=MAX_TRANSACTION_OPS,
        batch_read_chunk=BATCH_CHUNK,
        batch_write_chunk=BATCH_CHUNK,
        ttl_precision="exact (float seconds, filtered on read); swept in batches",
        consistency="strong (READ COMMITTED; each write one statement under its row lock)",
        notes=(
            "one table, canonical JSON as text; transactions lock every key they name; "
            "a 1-2 connection pool per process (RDS Proxy / PgBouncer in front)"
        ),
    )

    def __init__(self, pool: SharedPool, table: str = DEFAULT_TABLE) -> None:
        self._pool = pool
        self._label = pool.label
        self.table = table
        self._sql = Statements(table)
        self._writes = 0
        schema_ready(pool, table, schema(table))

    @classmethod
    def from_url(cls, url: ConnectionURL) -> PostgreSQLStore:
        url.require_known_params(tuple(p for p in URL_PARAMS if p not in ("queue", "max_attempts")))
        table = url.param("table", DEFAULT_TABLE) or ""
        if not IDENTIFIER.match(table):
            raise url.error(
                f"table must be a lower-case SQL identifier of at most 48 characters, got {table!r}"
            )
        pool = shared_pool(url)
        try:
            return cls(pool, table)
        except BaseException:
            release_pool(pool)
            raise

    # -- running -------------------------------------------------------------------------
    def _run(self, operation: str, body: Callable[[psycopg.Connection[Any]], T]) -> T:
        return self._pool.run(operation, body)

    def _wrote(self, count: int = 1) -> None:
        self._writes += count
        if self._writes >= SWEEP_EVERY:
            self._writes = 0
            self.sweep()

    def sweep(self) -> None:
        """Delete expired rows (at most ``SWEEP_BATCH``); reads never return them anyway."""
        import time

        self._run("sweep", lambda c: c.execute(self._sql.sweep, (time.time(),)))

    # -- hooks ---------------------------------------------------------------------------
    def get(self, key: str, now: float) -> Item | None:
        row = self._run("get", lambda c: c.execute(self._sql.get, (key, now)).fetchone())
        return None if row is None else Item(key, rules.decode_value(row[0]), row[1], row[2])

    def get_many(self, keys: Sequence[str], now: float) -> dict[str, Item]:
        def body(conn: psycopg.Connection[Any]) -> dict[str, Item]:
            found: dict[str, Item] = {}
            for start in range(0, len(keys), BATCH_CHUNK):
                chunk = list(keys[start : start + BATCH_CHUNK])
                for k, v, etag, exp in conn.execute(self._sql.get_many, (chunk, now)):
                    found[k] = Item(k, rules.decode_value(v), etag, exp)
            return found

        return self._run("get_many", body)

    def _write(self, conn: psycopg.Connection[Any], op: PreparedPut, now: float) -> None:
        item, cond = op.item, op.condition
        params = {"k": item.key, "v": op.data, "e": item.etag, "x": item.expires_at, "now": now}
        if not cond.is_conditional:
            conn.execute(self._sql.put, params)
            return
        if cond.if_match is not None:
            params["m"] = cond.if_match
            row = conn.execute(self._sql.put_if_match, params).fetchone()
        else:
            row = conn.execute(self._sql.put_if_absent, params).fetchone()
        assert row is not None
        if row[0] != 1:
            raise _conflict(item.key, cond, None if row[1] is None else row[1:])

    def put(self, op: PreparedPut, now: float) -> str:
        self._run("put", lambda c: self._write(c, op, now))
        self._wrote()
        return op.item.etag

    def _remove(
        self, conn: psycopg.Connection[Any], key: str, cond: WriteCondition, now: float
    ) -> bool:
        if cond.if_match is not None:
            row = conn.execute(
                self._sql.delete_if_match, {"k": key, "m": cond.if_match, "now": now}
            ).fetchone()
            assert row is not None
            if row[0] != 1:
                raise _conflict(key, cond, None if row[1] is None else row[1:])
            return True
        found = conn.execute(self._sql.delete, (key, now)).fetchone()
        return bool(found and found[0])

    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        return self._run("delete", lambda c: self._remove(c, key, condition, now))

    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        params = {"k": key, "by": by, "e": etag, "now": now}
        row = self._run("increment", lambda c: c.execute(self._sql.increment, params).fetchone())
        if row is None:
            raise InvalidValue(key, "increment needs an integer value; the stored value is not one")
        self._wrote()
        return int(row[0])

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> dict[str, StatekitError]:
        def body(conn: psycopg.Connection[Any]) -> None:
            # One statement per chunk, all chunks in one transaction: all keys or an error.
            with conn.transaction():
                for start in range(0, len(ops), BATCH_CHUNK):
                    chunk = ops[start : start + BATCH_CHUNK]
                    conn.execute(
                        self._sql.put_many,
                        (
                            [op.item.key for op in chunk],
                            [op.data for op in chunk],
                            [op.item.etag for op in chunk],
                            [op.item.expires_at for op in chunk],
                        ),
                    )

        try:
            self._run("put_many", body)
        except BackendUnavailable as exc:  # one transaction: every key failed alike
            return {op.item.key: exc for op in ops}
        self._wrote(len(ops))
        return {}

    def delete_many(self, keys: Sequence[str], now: float) -> dict[str, StatekitError]:
        def body(conn: psycopg.Connection[Any]) -> None:
            with conn.transaction():
                for start in range(0, len(keys), BATCH_CHUNK):
                    conn.execute(self._sql.delete_many, (list(keys[start : start + BATCH_CHUNK]),))

        try:
            self._run("delete_many", body)
        except BackendUnavailable as exc:
            return dict.fromkeys(keys, exc)
        return {}

    def _check(
        self, conn: psycopg.Connection[Any], op: PreparedCheck, now: float, held: list[str]
    ) -> None:
        cond = op.condition
        if cond.if_absent and conn.execute(self._sql.placeholder, (op.key,)).fetchone():
            held.append(op.key)  # nothing was there: the placeholder holds the key
            return
        row = conn.execute(self._sql.lock_live, (op.key,)).fetchone()
        live = row is not None and (row[2] is None or row[2] > now)
        seen = row if live else None
        if (cond.if_absent and live) or (
            cond.if_match is not None and (row is None or not live or row[1] != cond.if_match)
        ):
            raise _conflict(op.key, cond, seen)

    def transact(self, ops: Sequence[PreparedOp], now: float) -> list[str | None]:
        # Key order: every transaction locks keys in the same order, so none deadlock.
        order = sorted(range(len(ops)), key=lambda i: _key_of(ops[i]))

        def body(conn: psycopg.Connection[Any]) -> None:
            held: list[str] = []
            with conn.transaction():
                for index in order:
                    op = ops[index]
                    if isinstance(op, PreparedPut):
                        self._write(conn, op, now)
                    elif isinstance(op, PreparedCheck):
                        self._check(conn, op, now, held)
                    else:
                        self._remove(conn, op.key, op.condition, now)
                if held:
                    conn.execute(self._sql.drop_placeholders, (held,))

        self._run("transact", body)
        self._wrote(len(ops))
        return [op.item.etag if isinstance(op, PreparedPut) else None for op in ops]

    def list(self, prefix: str, after: str | None, limit: int, now: float) -> list[Item]:
        upper = rules.prefix_upper_bound(prefix)
        past = after is not None and after >= prefix
        params: dict[str, Any] = {
            "low": after if past else prefix,
            "high": upper,
            "prefix": prefix,
            "limit": limit,
            "now": now,
        }
        if upper is None:
            sql = self._sql.list_open.replace("k >=", "k >") if past else self._sql.list_open
        else:
            sql = self._sql.list_after if past else self._sql.list
        rows = self._run("list", lambda c: c.execute(sql, params).fetchall())
        return [Item(k, rules.decode_value(v), etag, exp) for k, v, etag, exp in rows]

    def close(self) -> None:
        release_pool(self._pool)


def _key_of(op: PreparedOp) -> str:
    return op.item.key if isinstance(op, PreparedPut) else op.key
