"""What the suites cannot see of the PostgreSQL backends, on a throwaway cluster.

The prefix listing's plan is an index range scan; processes (not only threads)
lose nothing; values are stored as the canonical JSON text; expired rows are
swept; the pool stays at 1-2 connections and is shared by store and queue;
bad URLs are refused before any connection; concurrent consumers never share a
message (SKIP LOCKED); a cloud token login reaches the server.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("psycopg")

import psycopg

import statekit
from statekit import InvalidURL, InvalidValue
from statekit.clients.postgresql import PoolSettings
from statekit.queue import open_queue
from statekit.store import rules
from statekit.store.backends.postgresql import PostgreSQLStore, Statements
from statekit.urls import parse_url
from tests.standins.base import StandInPool
from tests.standins.postgresql import PostgreSQLServer

PROCESSES = 4
PER_PROCESS = 50


@pytest.fixture(scope="module")
def server(standins: StandInPool) -> PostgreSQLServer:
    found = standins.get("postgresql")
    assert isinstance(found, PostgreSQLServer)
    return found


@pytest.fixture
def table() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def store(server: PostgreSQLServer, table: str) -> Iterator[statekit.Store]:
    opened = statekit.open_store(server.url(table=table))
    yield opened
    opened.close()


def raw(server: PostgreSQLServer) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host="127.0.0.1", port=server.port, user="postgres", dbname="postgres", autocommit=True
    )


def test_prefix_listing_is_an_index_range_scan(
    server: PostgreSQLServer, store: statekit.Store, table: str
) -> None:
    for partition in range(30):
        store.put_many({f"p{partition:02d}/k{n:03d}": n for n in range(100)})
    with raw(server) as conn:
        conn.execute(f"ANALYZE {table}")
        sql = Statements(table).list
        params = {"low": "p07/", "high": "p070", "limit": 101, "now": time.time()}
        plan = "\n".join(row[0] for row in conn.execute(f"EXPLAIN {sql}", params))
    assert "Index Scan" in plan and f"{table}_pkey" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "Index Cond: ((k >= " in plan and "(k < " in plan, plan  # a range, not a filter
    assert store.list("p07/", limit=3).keys == ["p07/k000", "p07/k001", "p07/k002"]


def _update_worker(url: str) -> None:
    store = statekit.open_store(url)
    for _ in range(PER_PROCESS):
        store.update("counter/updates", lambda v: (v or 0) + 1, attempts=10_000)
    store.close()


def _increment_worker(url: str) -> None:
    store = statekit.open_store(url)
    for _ in range(PER_PROCESS):
        store.increment("counter/increments")
    store.close()


@pytest.mark.parametrize(
    ("worker", "key"),
    [(_update_worker, "counter/updates"), (_increment_worker, "counter/increments")],
)
def test_processes_writing_one_key_lose_nothing(
    server: PostgreSQLServer, table: str, worker: Any, key: str
) -> None:
    url = server.url(table=table)
    context = multiprocessing.get_context("spawn")  # fresh interpreters, as separate functions are
    processes = [context.Process(target=worker, args=(url,)) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=180)
        assert process.exitcode == 0
    store = statekit.open_store(url)
    assert store.get(key).value == PROCESSES * PER_PROCESS  # type: ignore[union-attr]
    store.close()


def test_values_are_the_canonical_json_text(
    server: PostgreSQLServer, store: statekit.Store, table: str
) -> None:
    value = {"b": 1, "a": "nul \u0000 and ünïcode", "n": 1.0, "big": 10**30}
    store.put("v/k", value)
    with raw(server) as conn:
        row = conn.execute(f"SELECT v FROM {table} WHERE k = 'v/k'").fetchone()
    assert row is not None and row[0] == rules.encode_value("v/k", value)  # byte for byte
    assert store.get("v/k").value == value  # type: ignore[union-attr]


def test_increment_refuses_non_integers_and_goes_past_64_bits(store: statekit.Store) -> None:
    for bad in ("text", 1.5, [1], {"n": 1}, True):
        store.put("i/bad", bad)
        with pytest.raises(InvalidValue, match="integer"):
            store.increment("i/bad")
        assert store.get("i/bad").value == bad  # type: ignore[union-attr]  # untouched
    store.put("i/big", 2**63 - 1)
    assert store.increment("i/big") == 2**63
    assert store.increment("i/neg", -5) == -5


def test_expired_rows_are_invisible_then_swept(
    server: PostgreSQLServer, store: statekit.Store, table: str
) -> None:
    store.put("e/short", 1, ttl=0.2)
    store.put("e/long", 2, ttl=60)
    time.sleep(0.3)
    assert store.get("e/short") is None and store.list("e/").keys == ["e/long"]
    backend = store.backend
    assert isinstance(backend, PostgreSQLStore)
    backend.sweep()
    with raw(server) as conn:
        keys = [r[0] for r in conn.execute(f"SELECT k FROM {table} ORDER BY k")]
    assert keys == ["e/long"]


def test_pool_is_small_and_shared_by_store_and_queue(server: PostgreSQLServer, table: str) -> None:
    url = server.url(table=table, pool_size="2")
    store = statekit.open_store(url)
    queue = open_queue(server.url(table=f"{table}_q", queue="shared", pool_size="2")).provision()
    try:
        assert store.backend._pool is queue.backend._pool  # type: ignore[attr-defined]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: store.increment("pool/n"), range(80)))
        queue.send({"n": 1})
        with raw(server) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'statekit'"
            ).fetchone()
        assert row is not None and 1 <= row[0] <= 2
        assert store.get("pool/n").value == 80  # type: ignore[union-attr]
    finally:
        queue.close()
        store.close()


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("postgresql://postgres:secret@db.example.com/app", "password never goes in the URL"),
        ("postgresql://db.example.com/app", "names its user"),
        ("postgresql://app@/app", "needs a host"),
        ("postgresql://app@db.example.com", "database name"),
        ("postgresql://app@db.example.com/app?table=Bad-Name", "table must be"),
        ("postgresql://app@db.example.com/app?pool_size=3", "pool_size must be"),
        ("postgresql://app@db.example.com/app?sslmode=maybe", "sslmode must be"),
        ("postgresql://app@db.example.com/app?auth=kerberos", "auth must be"),
        ("postgresql://app@db.example.com/app?password_env=STATEKIT_NO_SUCH_VAR", "not set"),
        ("postgresql://app@db.example.com/app?queue=q", "unknown query parameter 'queue'"),
        ("postgresql://app@db.example.com/app?colour=blue", "unknown query parameter"),
        (
            "postgresql://app@db.example.com/app?auth=azure_entra&password_env=X",
            "logs in with a token",
        ),
    ],
)
def test_bad_urls_are_refused_before_connecting(url: str, rule: str) -> None:
    started = time.monotonic()
    with pytest.raises(InvalidURL, match=rule):
        statekit.open_store(url)
    assert time.monotonic() - started < 1  # no connection was attempted


def test_consumers_never_share_a_message(server: PostgreSQLServer, table: str) -> None:
    queue = open_queue(server.url(table=f"{table}_q", queue="skip-locked")).provision()
    try:
        result = queue.send_many([{"n": n} for n in range(120)])
        assert len(result.ids) == 120

        def consume(_: int) -> list[int]:
            got: list[int] = []
            while True:
                messages = queue.receive(max_messages=5, wait=0.5, visibility=60)
                if not messages:
                    return got
                got += [m.body["n"] for m in messages]
                queue.ack_many(messages)

        with ThreadPoolExecutor(4) as pool:
            seen = [n for chunk in pool.map(consume, range(4)) for n in chunk]
        assert sorted(seen) == list(range(120))  # each exactly once
    finally:
        queue.close()


def test_rds_iam_token_is_the_login_password(
    server: PostgreSQLServer, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("boto3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")
    url = server.url(table=table, auth="aws_iam", region="eu-west-1")
    token = PoolSettings(parse_url(url, allowed_schemes=["postgresql"])).password()
    # A presigned RDS "connect" request for this host, port and user (made locally).
    assert token is not None and token.startswith(f"127.0.0.1:{server.port}/?")
    assert "Action=connect" in token and "DBUser=postgres" in token
    assert "X-Amz-Signature=" in token
    store = statekit.open_store(url)  # the test cluster trusts any password
    try:
        store.put("iam/k", 1)
        assert store.get("iam/k").value == 1  # type: ignore[union-attr]
    finally:
        store.close()


def test_missing_region_for_iam_is_a_url_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    with pytest.raises(InvalidURL, match="region"):
        statekit.open_store("postgresql://app@db.example.com/app?auth=aws_iam")


def test_user_without_create_gets_the_ddl_hint(server: PostgreSQLServer, table: str) -> None:
    with raw(server) as conn:
        conn.execute("DROP ROLE IF EXISTS statekit_reader")
        conn.execute("CREATE ROLE statekit_reader LOGIN")
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    url = f"postgresql://statekit_reader@127.0.0.1:{server.port}/postgres?table={table}"
    with pytest.raises(statekit.StatekitError, match="may not create"):
        statekit.open_store(url)


def test_docs_show_the_ddl_the_backends_run() -> None:
    """A user without CREATE runs the DDL once; the docs must show exactly what the code runs."""
    from statekit.queue.backends import postgresql as queue_backend
    from statekit.store.backends import postgresql as store_backend

    docs = (Path(__file__).resolve().parents[3] / "docs" / "postgresql.md").read_text()
    for ddl in (store_backend.schema("statekit_items"), queue_backend.schema("statekit_queue")):
        for statement in ddl.split(";"):
            assert statement + ";" in docs, statement
