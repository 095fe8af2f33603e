"""Throughput of the embedded default (SQLite) through statekit vs raw sqlite3.

Both sides run in this process on the same machine, on their own fresh files
with the same pragmas, and do the same work per operation: the raw side
encodes JSON and makes an etag too, so the ratio is what statekit's rules
(validation, size check, TTL, conditions, dataclasses) cost on top of SQLite.

    .venv/bin/python benchmarks/store_embedded.py [--seconds 2.0] [--rounds 10]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import statekit
from statekit.clients.sqlite import connect
from statekit.store.backends.sqlite import _SCHEMA
from statekit.store.rules import new_etag

VALUE = {"user": "u-42", "items": [{"sku": "book", "qty": 1}], "total": 12.5}
_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def ops_per_second(
    fn: Callable[[int], object], seconds: float, clock: Callable[[], float]
) -> float:
    """Operations per second of ``clock`` time (wall, or this process's CPU time)."""
    for i in range(200):  # warm up caches and the statement cache
        fn(i)
    done = 0
    deadline = time.perf_counter() + seconds
    start = clock()
    while time.perf_counter() < deadline:
        for _ in range(100):
            fn(done)
            done += 1
    return done / (clock() - start)


def statekit_ops(path: Path) -> dict[str, Callable[[int], object]]:
    store = statekit.open_store(f"sqlite://{path}")
    store.put_many({f"bench/k{i}": VALUE for i in range(1000)})
    etags = {"c": store.put("bench/cond", VALUE).etag}

    def conditional_put(i: int) -> None:
        etags["c"] = store.put("bench/cond", VALUE, if_match=etags["c"]).etag

    return {
        "get": lambda i: store.get(f"bench/k{i % 1000}"),
        "put": lambda i: store.put(f"bench/k{i % 1000}", VALUE),
        "conditional put": conditional_put,
        "update": lambda i: store.update("bench/counter", lambda v: (v or 0) + 1),
        "put_many(100)": lambda i: store.put_many({f"bench/m{j}": VALUE for j in range(100)}),
    }


def raw_ops(path: Path) -> dict[str, Callable[[int], object]]:
    conn = connect(str(path))
    conn.executescript(_SCHEMA)
    upsert = (
        "INSERT INTO items (k, v, etag, exp) VALUES (?, ?, ?, ?) ON CONFLICT(k) DO UPDATE "
        "SET v = excluded.v, etag = excluded.etag, exp = excluded.exp"
    )
    with conn:
        conn.executemany(
            upsert, [(f"bench/k{i}", _dumps(VALUE), new_etag(), None) for i in range(1000)]
        )
    etags = {"c": new_etag()}
    conn.execute(upsert, ("bench/cond", _dumps(VALUE), etags["c"], None))

    def get(i: int) -> object:
        row = conn.execute(
            "SELECT v, etag, exp FROM items WHERE k = ? AND (exp IS NULL OR exp > ?)",
            (f"bench/k{i % 1000}", time.time()),
        ).fetchone()
        return json.loads(row[0])

    def conditional_put(i: int) -> None:
        etag = new_etag()
        cur = conn.execute(
            "UPDATE items SET v = ?, etag = ?, exp = ? WHERE k = ? AND etag = ? "
            "AND (exp IS NULL OR exp > ?)",
            (_dumps(VALUE), etag, None, "bench/cond", etags["c"], time.time()),
        )
        assert cur.rowcount == 1
        etags["c"] = etag

    def update(i: int) -> None:
        row = conn.execute(
            "SELECT v, etag, exp FROM items WHERE k = ? AND (exp IS NULL OR exp > ?)",
            ("bench/counter", time.time()),
        ).fetchone()
        if row is None:
            conn.execute(upsert, ("bench/counter", "1", new_etag(), None))
            return
        cur = conn.execute(
            "UPDATE items SET v = ?, etag = ?, exp = ? WHERE k = ? AND etag = ? "
            "AND (exp IS NULL OR exp > ?)",
            (
                _dumps(json.loads(row[0]) + 1),
                new_etag(),
                None,
                "bench/counter",
                row[1],
                time.time(),
            ),
        )
        assert cur.rowcount == 1

    def put_many(i: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            upsert, [(f"bench/m{j}", _dumps(VALUE), new_etag(), None) for j in range(100)]
        )
        conn.execute("COMMIT")

    return {
        "get": get,
        "put": lambda i: conn.execute(
            upsert, (f"bench/k{i % 1000}", _dumps(VALUE), new_etag(), None)
        ),
        "conditional put": conditional_put,
        "update": update,
        "put_many(100)": put_many,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="measuring time per operation and side"
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="short alternating rounds per operation"
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="cpu: this process's CPU time, which a busy or throttled VM disturbs less",
    )
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    slice_ = args.seconds / args.rounds
    with tempfile.TemporaryDirectory() as folder:
        ours = statekit_ops(Path(folder) / "statekit.db")
        theirs = raw_ops(Path(folder) / "raw.db")
        print(
            f"embedded store: statekit sqlite backend vs raw sqlite3 {sqlite3.sqlite_version}, "
            f"{args.seconds:.1f} s per cell in {args.rounds} alternating rounds, {args.clock} clock\n"
        )
        print(f"{'operation':<18}{'statekit ops/s':>16}{'raw ops/s':>14}{'ratio':>8}  round ratios")
        for name in ours:
            # Short rounds, alternating which side goes first, and the median of the
            # per-round ratios: drift in machine load (a VM's steal time, a WAL
            # checkpoint) hits both sides of a round alike.
            a_rates, b_rates, ratios = [], [], []
            for round_ in range(args.rounds):
                if round_ % 2:
                    b, a = (
                        ops_per_second(theirs[name], slice_, clock),
                        ops_per_second(ours[name], slice_, clock),
                    )
                else:
                    a, b = (
                        ops_per_second(ours[name], slice_, clock),
                        ops_per_second(theirs[name], slice_, clock),
                    )
                a_rates.append(a)
                b_rates.append(b)
                ratios.append(a / b)
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
            print(
                f"{name:<18}{statistics.median(a_rates):>16,.0f}{statistics.median(b_rates):>14,.0f}"
                f"{statistics.median(ratios):>7.2f}x  {spread}"
            )


if __name__ == "__main__":
    main()
