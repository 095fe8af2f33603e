"""The embedded default queue: tables in one SQLite file in WAL mode.

Several processes may consume at once: a receive claims its messages in one
``UPDATE ... RETURNING`` inside ``BEGIN IMMEDIATE`` (SQLite has one writer at a
time), which sets a fresh receipt, raises ``attempts`` and pushes
``visible_at`` forward, so two consumers never hold the same message at once.
A killed consumer loses nothing: its messages' ``visible_at`` simply passes.
Messages out of attempts move to the ``dead_letters`` table in the same
transaction, before the claim.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Sequence

from statekit.clients.sqlite import SQLiteFile, sqlite_path
from statekit.errors import StatekitError
from statekit.queue.backend import (
    OutgoingRaw,
    QueueBackend,
    QueueCapability,
    QueueLimits,
    ReceiptExpired,
    ReceivedRaw,
)
from statekit.urls import ConnectionURL

DEDUP_WINDOW_SECONDS = 300  # SQS FIFO's window, so the embedded default means the same
POLL_SECONDS = (0.02, 0.2)  # first and longest sleep of the long-poll loop

_COLUMNS = """
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    visible_at REAL NOT NULL,
    receipt TEXT,
    sent_at REAL NOT NULL
"""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS messages ({_COLUMNS});
CREATE INDEX IF NOT EXISTS messages_ready ON messages(queue, visible_at);
CREATE TABLE IF NOT EXISTS dead_letters ({_COLUMNS}, dead_at REAL);
CREATE INDEX IF NOT EXISTS dead_letters_ready ON dead_letters(queue, visible_at);
CREATE TABLE IF NOT EXISTS dedup (
    queue TEXT NOT NULL,
    dedup_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (queue, dedup_id)
) WITHOUT ROWID;
"""
_TABLES = ("messages", "dead_letters")


class SQLiteQueue(SQLiteFile, QueueBackend):
    name = "sqlite"
    capabilities = frozenset(QueueCapability)
    limits = QueueLimits(
        max_body_bytes=1_000_000_000,
        max_receive_batch=10,
        max_send_batch=500,
        max_visibility_seconds=10**9,
        max_delay_seconds=10**9,
        min_max_attempts=1,
        max_max_attempts=1000,
        dedup_window_seconds=DEDUP_WINDOW_SECONDS,
        notes="one file, WAL; consumers in several processes on one machine",
    )

    def __init__(self, path: str, queue: str, max_attempts: int) -> None:
        self.queue = queue
        self.max_attempts = max_attempts
        self._open(path, _SCHEMA)

    @classmethod
    def from_url(cls, url: ConnectionURL) -> SQLiteQueue:
        from statekit.queue.facade import max_attempts_param

        url.require_known_params(("queue", "max_attempts"))
        queue = url.param("queue", "default") or ""
        if not queue or len(queue) > 200:
            raise url.error("queue= must be a name of 1 to 200 characters")
        attempts = max_attempts_param(url.param("max_attempts"), 1, 1000, url)
        return cls(sqlite_path(url, "queue.db"), queue, attempts)

    # -- sending -------------------------------------------------------------------------
    def _insert(self, conn: sqlite3.Connection, message: OutgoingRaw, now: float) -> str:
        if message.dedup_id is not None:
            conn.execute(
                "DELETE FROM dedup WHERE queue = ? AND dedup_id = ? AND expires_at <= ?",
                (self.queue, message.dedup_id, now),
            )
            row = conn.execute(
                "SELECT message_id FROM dedup WHERE queue = ? AND dedup_id = ?",
                (self.queue, message.dedup_id),
            ).fetchone()
            if row is not None:
                return str(row[0])  # a repeat inside the window: accepted, not enqueued
        message_id = uuid.uuid4().hex
        conn.execute(
            "INSERT INTO messages (queue, id, body, visible_at, sent_at) VALUES (?, ?, ?, ?, ?)",
            (self.queue, message_id, message.data, now + message.delay, now),
        )
        if message.dedup_id is not None:
            conn.execute(
                "INSERT INTO dedup (queue, dedup_id, message_id, expires_at) VALUES (?, ?, ?, ?)",
                (self.queue, message.dedup_id, message_id, now + DEDUP_WINDOW_SECONDS),
            )
        return message_id

    def send(self, message: OutgoingRaw) -> str:
        def body(conn: sqlite3.Connection) -> str:
            with self._transaction(conn):
                return self._insert(conn, message, time.time())

        return self._run("send", body)

    def send_many(self, messages: Sequence[OutgoingRaw]) -> list[str | StatekitError]:
        def body(conn: sqlite3.Connection) -> list[str | StatekitError]:
            now = time.time()
            with self._transaction(conn):  # one local transaction: all of them or an error
                return [self._insert(conn, message, now) for message in messages]

        return self._run("send_many", body)

    # -- receiving -----------------------------------------------------------------------
    def _claim(
        self, table: str, max_messages: int, visibility: int, move_poison: bool
    ) -> list[ReceivedRaw]:
        def body(conn: sqlite3.Connection) -> list[ReceivedRaw]:
            now = time.time()
            with self._transaction(conn):
                if move_poison:
                    self._move_poison(conn, now)
                rows = conn.execute(
                    f"UPDATE {table} SET attempts = attempts + 1, visible_at = ?, "
                    "receipt = lower(hex(randomblob(12))) WHERE seq IN ("
                    f"SELECT seq FROM {table} WHERE queue = ? AND visible_at <= ? "
                    "ORDER BY seq LIMIT ?) RETURNING seq, id, body, attempts, receipt",
                    (now + visibility, self.queue, now, max_messages),
                ).fetchall()
            rows.sort()  # RETURNING has no order; send order is the contract here
            return [
                ReceivedRaw(mid, data, attempts, (table, seq, receipt))
                for seq, mid, data, attempts, receipt in rows
            ]

        return self._run("receive", body)

    def _move_poison(self, conn: sqlite3.Connection, now: float) -> None:
        where = "queue = ? AND visible_at <= ? AND attempts >= ?"
        args = (self.queue, now, self.max_attempts)
        conn.execute(
            "INSERT INTO dead_letters (queue, id, body, attempts, visible_at, sent_at, dead_at) "
            f"SELECT queue, id, body, attempts, ?, sent_at, ? FROM messages WHERE {where} "
            "ORDER BY seq",
            (now, now, *args),
        )
        conn.execute(f"DELETE FROM messages WHERE {where}", args)

    def _poll(
        self, table: str, max_messages: int, wait: float, visibility: int, move_poison: bool
    ) -> list[ReceivedRaw]:
        deadline = time.monotonic() + wait
        pause = POLL_SECONDS[0]
        while True:
            found = self._claim(table, max_messages, visibility, move_poison)
            remaining = deadline - time.monotonic()
            if found or remaining <= 0:
                return found
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, POLL_SECONDS[1])

    def receive(self, max_messages: int, wait: float, visibility: int) -> list[ReceivedRaw]:
        return self._poll("messages", max_messages, wait, visibility, True)

    def dead_letters(self, max_messages: int, visibility: int) -> list[ReceivedRaw]:
        return self._poll("dead_letters", max_messages, 0, visibility, False)

    # -- settling ------------------------------------------------------------------------
    def ack(self, message: ReceivedRaw) -> None:
        table, seq, receipt = message.receipt
        assert table in _TABLES
        removed = self._run(
            "ack",
            lambda c: (
                c.execute(
                    f"DELETE FROM {table} WHERE seq = ? AND receipt = ?", (seq, receipt)
                ).rowcount
            ),
        )
        if removed != 1:
            raise ReceiptExpired(self.name, message.id, "ack")

    def ack_many(self, messages: Sequence[ReceivedRaw]) -> dict[str, StatekitError]:
        def body(conn: sqlite3.Connection) -> dict[str, StatekitError]:
            failed: dict[str, StatekitError] = {}
            with self._transaction(conn):
                for message in messages:
                    table, seq, receipt = message.receipt
                    assert table in _TABLES
                    cursor = conn.execute(
                        f"DELETE FROM {table} WHERE seq = ? AND receipt = ?", (seq, receipt)
                    )
                    if cursor.rowcount != 1:
                        failed[message.id] = ReceiptExpired(self.name, message.id, "ack")
            return failed

        return self._run("ack_many", body)

    def change_visibility(self, message: ReceivedRaw, seconds: int) -> None:
        table, seq, receipt = message.receipt
        assert table in _TABLES

        def body(conn: sqlite3.Connection) -> int:
            now = time.time()
            # Only while this receipt still holds it: after its timeout ran out another
            # consumer may have it, and moving that delivery would be wrong.
            return conn.execute(
                f"UPDATE {table} SET visible_at = ? WHERE seq = ? AND receipt = ? "
                "AND visible_at > ?",
                (now + seconds, seq, receipt, now),
            ).rowcount

        if self._run("change_visibility", body) != 1:
            raise ReceiptExpired(self.name, message.id, "release" if seconds == 0 else "extend")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
