"""Cache hit path on Memcached vs a raw pymemcache GET, in the same run.

    .venv/bin/python benchmarks/cache_hit_memcached.py [--rounds 51] [--ops 300]

Starts memcached through tests/standins/memcached.py (Debian ``memcached``), stores
one small JSON value with a TTL, then rotates rounds of ``Cache.get`` (statekit: key
check, key mapping, GET on a borrowed client, the exact-expiry check, JSON decode)
and a raw ``pymemcache.Client.get`` of the same stored entry (bytes, no decode),
with the same timeouts. Prints per-op medians of wall time and of this thread's
CPU time, and the ratio; the goal is at most 1.05x of a raw GET.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymemcache.client.base import Client

import statekit
from benchmarks.timing import per_op_us
from statekit.cache.backends.memcached import TIMEOUT_SECONDS
from tests.standins.memcached import create

GOAL = 1.05
VALUE = {"id": 42, "name": "widget", "price": 9.5, "tags": ["a", "b"]}




def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=51)
    parser.add_argument("--ops", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        server = create(Path(workdir))
        server.start()
        try:
            cache = statekit.open_cache(server.url)
            raw = Client(
                ("127.0.0.1", server.port),
                connect_timeout=TIMEOUT_SECONDS,
                timeout=TIMEOUT_SECONDS,
                no_delay=True,
            )
            key = "bench/hit"
            cache.set(key, VALUE, ttl=600)
            assert cache.get(key) == VALUE and raw.get(key) is not None
            paths: dict[str, Callable[[], object]] = {
                "raw pymemcache GET": lambda: raw.get(key),
                "statekit Cache.get (decoded)": lambda: cache.get(key),
            }
            for fn in paths.values():
                per_op_us(fn, args.ops)
            timings: dict[str, list[float]] = {name: [] for name in paths}
            cpu: dict[str, list[float]] = {name: [] for name in paths}
            for round_no in range(args.rounds):
                names = list(paths)
                shift = round_no % len(names)
                for name in names[shift:] + names[:shift]:
                    wall, used = per_op_us(paths[name], args.ops)
                    timings[name].append(wall)
                    cpu[name].append(used)
            cache.close()
            raw.close()
        finally:
            server.stop()

    print(f"{args.rounds} rounds x {args.ops} GETs per path on a local memcached")
    print(f"| {'path':<30} | wall us/op (median) | client CPU us/op (median) |")
    print(f"|{'-' * 32}|--------------------:|--------------------------:|")
    for name, values in timings.items():
        print(
            f"| {name:<30} | {statistics.median(values):>19.1f} "
            f"| {statistics.median(cpu[name]):>25.1f} |"
        )
    kit, baseline = "statekit Cache.get (decoded)", "raw pymemcache GET"
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
