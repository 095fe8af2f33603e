"""Cache hit path vs a raw redis-py GET, in the same run, on a local redis-server.

    .venv/bin/python benchmarks/cache_hit.py [--rounds 15] [--ops 2000]

Starts redis-server through tests/standins/redis.py (Debian ``redis-server``),
stores one small JSON value, then alternates rounds of ``Cache.get`` (statekit:
key check, GET, JSON decode) and ``redis.Redis.get`` (raw bytes, no decode) on the
same key, each with its own warmed connection. Prints per-op medians and the
ratio; the goal is at most 1.05x. Interleaved rounds keep machine noise from
favouring either side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

import statekit
from statekit.backends.cache_redis import client_options
from statekit.urls import parse_url
from tests.standins.redis import create

GOAL = 1.05
VALUE = {"id": 42, "name": "widget", "price": 9.5, "tags": ["a", "b"]}


def per_op_us(fn: Callable[[], object], ops: int) -> float:
    started = time.perf_counter()
    for _ in range(ops):
        fn()
    return (time.perf_counter() - started) / ops * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=101)
    parser.add_argument("--ops", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        server = create(Path(workdir))
        server.start()
        try:
            cache = statekit.open_cache(server.url)
            raw = redis.Redis(host="127.0.0.1", port=server.port, db=0)
            # The same timeouts and retry statekit uses: isolates statekit's own cost.
            options = client_options(parse_url(server.url, allowed_schemes=["redis"]))
            raw_same = redis.Redis(**options)
            key = "bench/hit"
            cache.set(key, VALUE, ttl=600)
            assert cache.get(key) == VALUE and raw.get(key) is not None

            paths: dict[str, Callable[[], object]] = {
                "raw redis-py GET, default client": lambda: raw.get(key),
                "raw redis-py GET, statekit options": lambda: raw_same.get(key),
                "statekit Cache.get (decoded)": lambda: cache.get(key),
            }
            for fn in paths.values():  # warm every connection and code path
                per_op_us(fn, args.ops)
            timings: dict[str, list[float]] = {name: [] for name in paths}
            for round_no in range(args.rounds):
                # Rotate the order, so no path always runs first on a warmer CPU.
                names = list(paths)
                shift = round_no % len(names)
                for name in names[shift:] + names[:shift]:
                    timings[name].append(per_op_us(paths[name], args.ops))
        finally:
            server.stop()

    print(f"{args.rounds} rounds x {args.ops} GETs per path on a local redis-server")
    print(f"| {'path':<36} | median us/op | best round us/op |")
    print(f"|{'-' * 38}|-------------:|-----------------:|")
    for name, values in timings.items():
        print(f"| {name:<36} | {statistics.median(values):>12.1f} | {min(values):>16.1f} |")
    kit = timings["statekit Cache.get (decoded)"]
    for baseline in ("raw redis-py GET, default client", "raw redis-py GET, statekit options"):
        raw_values = timings[baseline]
        ratio = statistics.median(kit) / statistics.median(raw_values)
        best = min(kit) / min(raw_values)
        verdict = "meets" if ratio <= GOAL else "misses"
        print(
            f"vs {baseline}: {ratio:.3f}x by medians, {best:.3f}x by best rounds "
            f"({verdict} the {GOAL:.2f}x goal)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
