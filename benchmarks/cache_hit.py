"""Cache hit path vs a raw redis-py GET, in the same run, on a local redis-server.

    .venv/bin/python benchmarks/cache_hit.py [--rounds 15] [--ops 2000]

Starts redis-server through tests/standins/redis.py (Debian ``redis-server``),
stores one small JSON value, then rotates rounds of ``Cache.get`` (statekit: key
check, GET on a borrowed single-connection lane, JSON decode) and raw
``redis.Redis.get`` (bytes, no decode) on the same key: with redis-py's default
client (a pool checkout per command), with statekit's client options, and with a
single-connection client (redis-py's leanest use). Prints per-op medians of wall
time and of this thread's CPU time, and the ratios; the goal is at most 1.05x of
a raw GET. Rotated, interleaved rounds keep machine noise from favouring one path.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

import statekit
from benchmarks.timing import per_op_us
from statekit.cache.backends.redis import cache_client_options
from statekit.urls import parse_url
from tests.standins.redis import create

GOAL = 1.05
VALUE = {"id": 42, "name": "widget", "price": 9.5, "tags": ["a", "b"]}




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
            options = cache_client_options(parse_url(server.url, allowed_schemes=["redis"]))
            raw_same = redis.Redis(**options)
            # redis-py's leanest use: one connection held by the client, no pool checkout.
            raw_single = redis.Redis(**options, single_connection_client=True)
            key = "bench/hit"
            cache.set(key, VALUE, ttl=600)
            assert cache.get(key) == VALUE and raw.get(key) is not None

            paths: dict[str, Callable[[], object]] = {
                "raw redis-py GET, default client": lambda: raw.get(key),
                "raw redis-py GET, statekit options": lambda: raw_same.get(key),
                "raw redis-py GET, single connection": lambda: raw_single.get(key),
                "statekit Cache.get (decoded)": lambda: cache.get(key),
            }
            for fn in paths.values():  # warm every connection and code path
                per_op_us(fn, args.ops)
            timings: dict[str, list[float]] = {name: [] for name in paths}
            cpu: dict[str, list[float]] = {name: [] for name in paths}
            for round_no in range(args.rounds):
                # Rotate the order, so no path always runs first on a warmer CPU.
                names = list(paths)
                shift = round_no % len(names)
                for name in names[shift:] + names[:shift]:
                    wall, used = per_op_us(paths[name], args.ops)
                    timings[name].append(wall)
                    cpu[name].append(used)
        finally:
            server.stop()

    print(f"{args.rounds} rounds x {args.ops} GETs per path on a local redis-server")
    print(f"| {'path':<36} | wall us/op (median) | client CPU us/op (median) |")
    print(f"|{'-' * 38}|--------------------:|--------------------------:|")
    for name, values in timings.items():
        wall_median, cpu_median = statistics.median(values), statistics.median(cpu[name])
        print(f"| {name:<36} | {wall_median:>19.1f} | {cpu_median:>25.1f} |")
    kit = "statekit Cache.get (decoded)"
    for baseline in [name for name in paths if name.startswith("raw")]:
        ratio = statistics.median(timings[kit]) / statistics.median(timings[baseline])
        cpu_ratio = statistics.median(cpu[kit]) / statistics.median(cpu[baseline])
        verdict = "meets" if ratio <= GOAL else "misses"
        print(
            f"vs {baseline}: {ratio:.3f}x wall-clock ({verdict} the {GOAL:.2f}x goal), "
            f"{cpu_ratio:.3f}x client CPU"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
