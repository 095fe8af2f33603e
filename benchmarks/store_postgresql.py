"""PostgreSQL store vs raw psycopg doing the same statements, in the same run.

    .venv/bin/python benchmarks/store_postgresql.py [--rounds 21] [--ops 200]

Starts a throwaway cluster through tests/standins/postgresql.py (Debian's
``postgresql``), then alternates rounds of statekit's ``Store`` and a raw psycopg
connection (autocommit, statements prepared on first use: the settings statekit's
pool uses) doing the same statements (``statekit.store.backends.postgresql``'s SQL)
and the same client work (JSON encoding and decoding, a fresh etag per write).
statekit adds key and value validation, the size check, its result objects and
the pool's checkout. Prints per-op medians and the median of the per-round ratios;
the goal is at most 1.1x raw psycopg.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

import statekit
from benchmarks.timing import per_op_us
from statekit.store import rules
from statekit.store.backends.postgresql import Statements
from tests.standins.postgresql import PostgreSQLServer

GOAL = 1.1
VALUE = {"id": 42, "name": "widget", "price": 9.5, "tags": ["a", "b"]}
BATCH = 100
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode




class Raw:
    """The same statements on one psycopg connection, with the same client work."""

    def __init__(self, port: int, table: str) -> None:
        self.conn = psycopg.connect(
            host="127.0.0.1",
            port=port,
            user="postgres",
            dbname="postgres",
            autocommit=True,
            prepare_threshold=0,
        )
        self.sql = Statements(table)
        self.etags: dict[str, str] = {}

    def get(self, key: str) -> object:
        row = self.conn.execute(self.sql.get, (key, time.time())).fetchone()
        assert row is not None
        return json.loads(row[0])

    def put(self, key: str) -> None:
        self.etags[key] = etag = rules.new_etag()
        self.conn.execute(
            self.sql.put,
            {"k": key, "v": _encode(VALUE), "e": etag, "x": None, "now": time.time()},
        )

    def put_if_match(self, key: str) -> None:
        etag = rules.new_etag()
        row = self.conn.execute(
            self.sql.put_if_match,
            {
                "k": key,
                "v": _encode(VALUE),
                "e": etag,
                "x": None,
                "m": self.etags[key],
                "now": time.time(),
            },
        ).fetchone()
        assert row is not None and row[0] == 1
        self.etags[key] = etag

    def put_many(self, keys: list[str]) -> None:
        with self.conn.transaction():
            self.conn.execute(
                self.sql.put_many,
                (
                    keys,
                    [_encode(VALUE) for _ in keys],
                    [rules.new_etag() for _ in keys],
                    [None] * len(keys),
                ),
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--ops", type=int, default=200)
    args = parser.parse_args()

    server = PostgreSQLServer(Path(tempfile.mkdtemp()))
    server.start()
    try:
        store = statekit.open_store(server.url(table="bench_kit", pool_size="1"))
        raw = Raw(server.port, "bench_raw")
        raw.conn.execute(
            'CREATE TABLE bench_raw (k text COLLATE "C" PRIMARY KEY, v text NOT NULL, '
            "etag text NOT NULL, exp double precision)"
        )
        kit_etag = [store.put("b/cond", VALUE).etag]
        store.put("b/get", VALUE)
        raw.put("b/get")
        raw.put("b/cond")
        batch = [f"b/m{n:03d}" for n in range(BATCH)]
        batch_values = dict.fromkeys(batch, VALUE)

        def kit_conditional() -> None:
            kit_etag[0] = store.put("b/cond", VALUE, if_match=kit_etag[0]).etag

        pairs: dict[str, tuple[Callable[[], object], Callable[[], object], int]] = {
            "get": (lambda: store.get("b/get").value, lambda: raw.get("b/get"), 1),  # type: ignore[union-attr]
            "put": (lambda: store.put("b/put", VALUE), lambda: raw.put("b/put"), 1),
            "conditional put": (kit_conditional, lambda: raw.put_if_match("b/cond"), 1),
            f"put_many({BATCH})": (
                lambda: store.put_many(batch_values),
                lambda: raw.put_many(batch),
                10,
            ),
        }
        for kit, plain, scale in pairs.values():  # warm both sides: prepared statements
            per_op_us(kit, max(1, args.ops // scale))
            per_op_us(plain, max(1, args.ops // scale))
        kit_us: dict[str, list[float]] = {name: [] for name in pairs}
        raw_us: dict[str, list[float]] = {name: [] for name in pairs}
        ratios: dict[str, list[float]] = {name: [] for name in pairs}
        cpu_ratios: dict[str, list[float]] = {name: [] for name in pairs}
        for round_no in range(args.rounds):
            for name, (kit, plain, scale) in pairs.items():
                ops = max(1, args.ops // scale)
                # Alternate which side goes first, so neither always runs on a warmer CPU.
                if round_no % 2:
                    (r, r_cpu), (k, k_cpu) = per_op_us(plain, ops), per_op_us(kit, ops)
                else:
                    (k, k_cpu), (r, r_cpu) = per_op_us(kit, ops), per_op_us(plain, ops)
                kit_us[name].append(k)
                raw_us[name].append(r)
                ratios[name].append(k / r)
                cpu_ratios[name].append(k_cpu / r_cpu)
        store.close()
        raw.conn.close()
        version = psycopg.pq.version()
    finally:
        server.cleanup()

    print(
        f"{args.rounds} alternating rounds, {args.ops} ops per cell (put_many: /10), "
        f"throwaway PostgreSQL on 127.0.0.1, libpq {version}"
    )
    print(
        "| operation | statekit us/op | raw psycopg us/op | ratio (median) | rounds' spread "
        "| client CPU ratio (median) |"
    )
    print("|---|---:|---:|---:|---|---:|")
    worst = 0.0
    for name in pairs:
        ratio = statistics.median(ratios[name])
        worst = max(worst, ratio)
        print(
            f"| {name} | {statistics.median(kit_us[name]):.1f} "
            f"| {statistics.median(raw_us[name]):.1f} | {ratio:.3f}x "
            f"| {min(ratios[name]):.2f}-{max(ratios[name]):.2f} "
            f"| {statistics.median(cpu_ratios[name]):.3f}x |"
        )
    verdict = "meets" if worst <= GOAL else "misses"
    print(f"worst median wall-clock ratio {worst:.3f}x: {verdict} the {GOAL:.2f}x goal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
