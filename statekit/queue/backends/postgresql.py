"""PostgreSQL queue: tables on the store's server, so a team on PostgreSQL alone has the kit.

URL: ``postgresql://USER@HOST:PORT/DATABASE?queue=NAME[&max_attempts=N][&table=T]``
plus the connection parameters of ``statekit.clients.postgresql`` (the pool is shared
with a store on the same URL). Tables ``T_messages``, ``T_dead_letters`` and
``T_dedup`` (``T`` defaults to ``statekit_queue``) hold every queue of the database,
keyed by ``queue``; created on first use by idempotent DDL.

* ``receive`` is one statement: it moves messages out of attempts to the
  dead-letter table, then claims up to N visible messages with
  ``SELECT ... FOR UPDATE SKIP LOCKED`` (consumers never wait on each other's rows),
  raises their ``attempts``, gives them a fresh receipt and pushes ``visible_at``
  forward by the visibility timeout. A killed consumer loses nothing: its
  messages' ``visible_at`` passes and they are claimed again.
* ``ack``/``release``/``extend`` act only while the receipt still holds the
  message, so a consumer whose timeout ran out cannot settle another's delivery.
* ``dedup_id``: a repeat within ``DEDUP_WINDOW_SECONDS`` is accepted, not enqueued
  (the send and its dedup row commit together).
* Long polling is a backed-off poll of the ready index (no LISTEN: a pooled
  connection behind RDS Proxy or PgBouncer in transaction mode cannot hold one).
"""

from __future__ import annotations

import re
import time
import uuid
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
from statekit.errors import BackendUnavailable, StatekitError
from statekit.queue.backend import (
    OutgoingRaw,
    QueueBackend,
    QueueCapability,
    QueueLimits,
    ReceiptExpired,
    ReceivedRaw,
)
from statekit.urls import ConnectionURL

T = TypeVar("T")
DEFAULT_TABLE = "statekit_queue"
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")
DEDUP_WINDOW_SECONDS = 300  # SQS FIFO's window, as the embedded queue
POLL_SECONDS = (0.02, 0.2)  # first and longest sleep of the long-poll loop
_COLUMNS = (
    "seq bigserial PRIMARY KEY, queue text NOT NULL, id text NOT NULL, body text NOT NULL, "
    "attempts integer NOT NULL DEFAULT 0, visible_at double precision NOT NULL, "
    "receipt text, sent_at double precision NOT NULL"
)


def schema(table: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {table}_messages ({_COLUMNS});"
        f"CREATE INDEX IF NOT EXISTS {table}_messages_ready "
        f"ON {table}_messages (queue, visible_at, seq);"
        f"CREATE TABLE IF NOT EXISTS {table}_dead_letters ({_COLUMNS}, dead_at double precision);"
        f"CREATE INDEX IF NOT EXISTS {table}_dead_letters_ready "
        f"ON {table}_dead_letters (queue, visible_at, seq);"
        f"CREATE TABLE IF NOT EXISTS {table}_dedup (queue text NOT NULL, dedup_id text NOT NULL, "
        "message_id text NOT NULL, expires_at double precision NOT NULL, "
        "PRIMARY KEY (queue, dedup_id))"
    )


class Statements:
    def __init__(self, table: str) -> None:
        messages, dead, dedup = f"{table}_messages", f"{table}_dead_letters", f"{table}_dedup"
        self.tables = {"m": messages, "d": dead}
        self.insert = (
            f"INSERT INTO {messages} (queue, id, body, visible_at, sent_at) "
            "VALUES (%s, %s, %s, %s, %s)"
        )
        # Claims the dedup id unless a live claim holds it; returns the id that holds it.
        self.claim_dedup = (
            f"INSERT INTO {dedup} AS d (queue, dedup_id, message_id, expires_at) "
            "VALUES (%(q)s, %(dedup)s, %(id)s, %(until)s) ON CONFLICT (queue, dedup_id) "
            "DO UPDATE SET message_id = excluded.message_id, expires_at = excluded.expires_at "
            "WHERE d.expires_at <= %(now)s RETURNING message_id"
        )
        # Many messages in one statement, in send order (the sequence follows ORDER BY).
        self.insert_many = (
            f"INSERT INTO {messages} (queue, id, body, visible_at, sent_at) "
            "SELECT %s, id, body, visible_at, %s FROM unnest(%s::text[], %s::text[], "
            "%s::float8[]) WITH ORDINALITY AS m(id, body, visible_at, n) ORDER BY n"
        )
        self.holder = f"SELECT message_id FROM {dedup} WHERE queue = %s AND dedup_id = %s"
        self.forget_dedup = f"DELETE FROM {dedup} WHERE queue = %s AND expires_at <= %s"
        # The rows to claim are picked once, in a MATERIALIZED CTE: a subquery with LIMIT
        # and SKIP LOCKED inside a join may be evaluated again and pick more rows.
        pick = (
            "picked AS MATERIALIZED (SELECT seq FROM {t} WHERE queue = %(q)s "
            "AND visible_at <= %(now)s{extra} ORDER BY seq LIMIT %(n)s FOR UPDATE SKIP LOCKED)"
        )
        claim = (
            "UPDATE {t} AS m SET attempts = m.attempts + 1, visible_at = %(until)s, "
            "receipt = gen_random_uuid()::text FROM picked WHERE m.seq = picked.seq "
            "RETURNING m.seq, m.id, m.body, m.attempts, m.receipt"
        )
        # One statement: out-of-attempts messages to the dead-letter table, then the claim.
        self.receive = (
            f"WITH poisoned AS MATERIALIZED (SELECT seq FROM {messages} WHERE queue = %(q)s "
            "AND visible_at <= %(now)s AND attempts >= %(max)s FOR UPDATE SKIP LOCKED), "
            f"poison AS (DELETE FROM {messages} AS p USING poisoned WHERE p.seq = poisoned.seq "
            "RETURNING p.queue, p.id, p.body, p.attempts, p.sent_at, p.seq), "
            f"moved AS (INSERT INTO {dead} (queue, id, body, attempts, visible_at, sent_at, "
            "dead_at) SELECT queue, id, body, attempts, %(now)s, sent_at, %(now)s FROM poison "
            "ORDER BY seq), "
            + pick.format(t=messages, extra=" AND attempts < %(max)s")
            + " "
            + claim.format(t=messages)
        )
        self.receive_dead = "WITH " + pick.format(t=dead, extra="") + " " + claim.format(t=dead)
        self.ack = {
            k: f"DELETE FROM {t} WHERE seq = %s AND receipt = %s" for k, t in self.tables.items()
        }
        self.change_visibility = {
            k: f"UPDATE {t} SET visible_at = %s WHERE seq = %s AND receipt = %s AND visible_at > %s"
            for k, t in self.tables.items()
        }


class PostgreSQLQueue(QueueBackend):
    name = "postgresql"
    capabilities = frozenset(QueueCapability)
    limits = QueueLimits(
        max_body_bytes=256 * 1024 * 1024,
        max_receive_batch=10,
        max_send_batch=500,
        max_visibility_seconds=12 * 3600,
        max_delay_seconds=10**9,
        min_max_attempts=1,
        max_max_attempts=1000,
        dedup_window_seconds=DEDUP_WINDOW_SECONDS,
        notes="tables on the store's server; SKIP LOCKED claims; polled, not pushed",
    )

    def __init__(self, pool: SharedPool, queue: str, max_attempts: int, table: str) -> None:
        self._pool = pool
        self._label = pool.label
        self.queue = queue
        self.max_attempts = max_attempts
        self._sql = Statements(table)
        self._schema = (table, schema(table))
        self._ready = False

    @classmethod
    def from_url(cls, url: ConnectionURL) -> PostgreSQLQueue:
        from statekit.queue.facade import max_attempts_param

        url.require_known_params(URL_PARAMS)
        queue = url.param("queue", "default") or ""
        if not queue or len(queue) > 200:
            raise url.error("queue= must be a name of 1 to 200 characters")
        table = url.param("table", DEFAULT_TABLE) or ""
        if not IDENTIFIER.match(table):
            raise url.error(
                f"table must be a lower-case SQL identifier of at most 41 characters, got {table!r}"
            )
        attempts = max_attempts_param(url.param("max_attempts"), 1, 1000, url)
        return cls(shared_pool(url), queue, attempts, table)

    def provision(self) -> None:
        schema_ready(self._pool, self._schema[0], self._schema[1])
        self._ready = True

    def _run(self, operation: str, body: Callable[[psycopg.Connection[Any]], T]) -> T:
        if not self._ready:
            self.provision()  # created on first use: idempotent, once per process
        return self._pool.run(operation, body)

    # -- sending -------------------------------------------------------------------------
    def _insert(self, conn: psycopg.Connection[Any], message: OutgoingRaw, now: float) -> str:
        message_id = uuid.uuid4().hex
        if message.dedup_id is not None:
            claimed = conn.execute(
                self._sql.claim_dedup,
                {
                    "q": self.queue,
                    "dedup": message.dedup_id,
                    "id": message_id,
                    "until": now + DEDUP_WINDOW_SECONDS,
                    "now": now,
                },
            ).fetchone()
            if claimed is None:  # a repeat inside the window: accepted, not enqueued
                row = conn.execute(self._sql.holder, (self.queue, message.dedup_id)).fetchone()
                return str(row[0]) if row else message_id
        conn.execute(
            self._sql.insert, (self.queue, message_id, message.data, now + message.delay, now)
        )
        return message_id

    def send(self, message: OutgoingRaw) -> str:
        def body(conn: psycopg.Connection[Any]) -> str:
            now = time.time()
            if message.dedup_id is None:
                return self._insert(conn, message, now)  # one statement, autocommit
            with conn.transaction():  # the message and its dedup claim commit together
                return self._insert(conn, message, now)

        return self._run("send", body)

    def send_many(self, messages: Sequence[OutgoingRaw]) -> list[str | StatekitError]:
        def body(conn: psycopg.Connection[Any]) -> list[str | StatekitError]:
            now = time.time()
            with conn.transaction():  # all of them or an error
                conn.execute(self._sql.forget_dedup, (self.queue, now))
                if any(message.dedup_id is not None for message in messages):
                    return [self._insert(conn, message, now) for message in messages]
                ids = [uuid.uuid4().hex for _ in messages]
                conn.execute(
                    self._sql.insert_many,
                    (
                        self.queue,
                        now,
                        ids,
                        [message.data for message in messages],
                        [now + message.delay for message in messages],
                    ),
                )
                return list(ids)

        try:
            return self._run("send_many", body)
        except BackendUnavailable as exc:  # one transaction: every message failed alike
            return [exc] * len(messages)

    # -- receiving -----------------------------------------------------------------------
    def _claim(self, table: str, max_messages: int, visibility: int) -> list[ReceivedRaw]:
        now = time.time()
        params = {
            "q": self.queue,
            "now": now,
            "until": now + visibility,
            "n": max_messages,
            "max": self.max_attempts,
        }
        sql = self._sql.receive if table == "m" else self._sql.receive_dead
        rows = self._run("receive", lambda c: c.execute(sql, params).fetchall())
        rows.sort()  # RETURNING has no order; send order is the contract here
        return [
            ReceivedRaw(mid, data, attempts, (table, seq, receipt))
            for seq, mid, data, attempts, receipt in rows
        ]

    def _poll(
        self, table: str, max_messages: int, wait: float, visibility: int
    ) -> list[ReceivedRaw]:
        deadline = time.monotonic() + wait
        pause = POLL_SECONDS[0]
        while True:
            found = self._claim(table, max_messages, visibility)
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, POLL_SECONDS[1])

    def receive(self, max_messages: int, wait: float, visibility: int) -> list[ReceivedRaw]:
        return self._poll("m", max_messages, wait, visibility)

    def dead_letters(self, max_messages: int, visibility: int) -> list[ReceivedRaw]:
        return self._poll("d", max_messages, 0, visibility)

    # -- settling ------------------------------------------------------------------------
    def ack(self, message: ReceivedRaw) -> None:
        table, seq, receipt = message.receipt
        sql = self._sql.ack[table]
        removed = self._run("ack", lambda c: c.execute(sql, (seq, receipt)).rowcount)
        if removed != 1:
            raise ReceiptExpired(self.name, message.id, "ack")

    def ack_many(self, messages: Sequence[ReceivedRaw]) -> dict[str, StatekitError]:
        def body(conn: psycopg.Connection[Any]) -> dict[str, StatekitError]:
            failed: dict[str, StatekitError] = {}
            with conn.transaction():
                for message in messages:
                    table, seq, receipt = message.receipt
                    cursor = conn.execute(self._sql.ack[table], (seq, receipt))
                    if cursor.rowcount != 1:
                        failed[message.id] = ReceiptExpired(self.name, message.id, "ack")
            return failed

        return self._run("ack_many", body)

    def change_visibility(self, message: ReceivedRaw, seconds: int) -> None:
        table, seq, receipt = message.receipt
        sql = self._sql.change_visibility[table]
        now = time.time()
        # Only while this receipt still holds it: after its timeout ran out another
        # consumer may have it, and moving that delivery would be wrong.
        changed = self._run(
            "change_visibility",
            lambda c: c.execute(sql, (now + seconds, seq, receipt, now)).rowcount,
        )
        if changed != 1:
            raise ReceiptExpired(self.name, message.id, "release" if seconds == 0 else "extend")

    def close(self) -> None:
        release_pool(self._pool)
