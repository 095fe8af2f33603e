"""What the embedded store and the embedded queue share: one SQLite file in WAL mode.

Each backend object holds one connection, shared by its threads under a lock;
several processes may open the same file at once (SQLite serializes writers,
and WAL readers never block them). SQLite's operational errors (a locked file
past the busy timeout, a disk that is full or gone) become
``BackendUnavailable`` naming the operation.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ClassVar, TypeVar

from statekit.errors import BackendUnavailable
from statekit.urls import ConnectionURL, statekit_home

T = TypeVar("T")

BUSY_TIMEOUT_SECONDS = 30.0


def sqlite_path(url: ConnectionURL, default_name: str) -> str:
    """``sqlite:///abs.db`` / ``sqlite://./rel.db`` / ``sqlite://`` (default file)."""
    if url.host and url.host != ".":
        raise url.error(
            "a sqlite URL has no host: use sqlite:///absolute/path.db or sqlite://./relative.db"
        )
    if not url.path or url.path == "/":
        return os.path.join(statekit_home(), default_name)
    path = url.path.lstrip("/") if url.host == "." else url.path
    return os.path.abspath(path)


def connect(path: str) -> sqlite3.Connection:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable across process crashes in WAL mode; only an OS crash can
    # lose the last commits, the trade every embedded WAL database makes.
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


class SQLiteFile:
    """Base of a backend kept in one SQLite file: opening it, running under the lock."""

    name: ClassVar[str]

    def _open(self, path: str, schema: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self._conn = connect(path)
            self._conn.executescript(schema)
        except sqlite3.Error as exc:
            raise BackendUnavailable(self.name, f"open {path}", exc) from None

    def _run(self, operation: str, body: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return body(self._conn)
            except sqlite3.OperationalError as exc:
                raise BackendUnavailable(self.name, operation, exc) from None

    @staticmethod
    @contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")  # take the write lock first: no upgrade deadlocks
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
