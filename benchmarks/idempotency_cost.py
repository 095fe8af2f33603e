"""What ``@idempotent`` costs: store round trips and time of a first call and of a replay.

    .venv/bin/python benchmarks/idempotency_cost.py [--calls 300]

Runs over the embedded SQLite file, the memory store and the Redis store on a
local redis-server (tests/standins/redis.py), with the default protocol (write
first) and with ``read_first=True``. Round trips are counted with a Store
subclass around the real backend; times are medians per call, the body doing
nothing, so the numbers are the decorator's own cost. Goal: two writes on a first
call, one read on a replay.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from statekit import Conflict, Item, Store
from statekit.idempotency import idempotent
from statekit.store import open_store
from statekit.store.backends.memory import MemoryStore
from tests.standins.redis import create as create_redis


class CountingStore(Store):
    def __init__(self, store: Store) -> None:
        super().__init__(store.backend)
        self.calls = {"get": 0, "put": 0, "refused": 0, "delete": 0}
        self._lock = threading.Lock()

    def _count(self, name: str) -> None:
        with self._lock:
            self.calls[name] += 1

    def get(self, key: str) -> Item | None:
        self._count("get")
        return super().get(key)

    def put(
        self,
        key: str,
        value: Any,
        *,
        if_match: str | None = None,
        if_absent: bool = False,
        ttl: float | None = None,
    ) -> Item:
        try:
            item = super().put(key, value, if_match=if_match, if_absent=if_absent, ttl=ttl)
        except Conflict:
            self._count("refused")  # a refused conditional write: one round trip, nothing written
            raise
        self._count("put")
        return item

    def delete(self, key: str, *, if_match: str | None = None) -> bool:
        self._count("delete")
        return super().delete(key, if_match=if_match)


def calls_text(before: dict[str, int], after: dict[str, int], n: int) -> str:
    parts = []
    labels = (
        ("get", "read", "reads"),
        ("put", "write", "writes"),
        ("refused", "refused write (returns the record)", "refused writes"),
        ("delete", "delete", "deletes"),
    )
    for name, one, many in labels:
        per_call = (after[name] - before[name]) / n
        if per_call:
            parts.append(f"{per_call:g} {one if per_call == 1 else many}")
    return ", ".join(parts) or "none"


def measure(store: CountingStore, read_first: bool, calls: int) -> tuple[str, float, str, float]:
    @idempotent(store=store, key="id", read_first=read_first, namespace=f"bench-{time.time_ns()}")
    def handler(event: dict[str, Any]) -> dict[str, Any]:
        return {"ok": event["id"]}

    def timed(make_event: Callable[[int], dict[str, Any]]) -> tuple[str, float]:
        before = dict(store.calls)
        times = []
        for i in range(calls):
            event = make_event(i)
            started = time.perf_counter()
            handler(event)
            times.append(time.perf_counter() - started)
        return calls_text(before, store.calls, calls), statistics.median(times) * 1e6

    first_calls, first_us = timed(lambda i: {"id": f"first-{i}"})
    replay_calls, replay_us = timed(lambda i: {"id": f"first-{i}"})
    return first_calls, first_us, replay_calls, replay_us


def raw_write_us(store: Store, calls: int) -> float:
    times = []
    for i in range(calls):
        started = time.perf_counter()
        store.put(f"raw-{time.time_ns()}-{i}", {"ok": i}, if_absent=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        redis_server = create_redis(Path(workdir) / "redis")
        redis_server.start()
        try:
            stores = {
                "memory": Store(MemoryStore()),
                "sqlite": open_store(f"sqlite://{Path(workdir) / 'bench.db'}"),
                "redis": open_store(f"{redis_server.url}?prefix=bench:"),
            }
            print(f"{args.calls} calls each; body does nothing; medians")
            print(
                "| store | mode | first call: round trips | first call us | replay: round trips "
                "| replay us | one if_absent put us |"
            )
            print("|---|---|---|---:|---|---:|---:|")
            for name, plain in stores.items():
                raw_us = raw_write_us(plain, args.calls)
                for read_first in (False, True):
                    counting = CountingStore(plain)
                    first, first_us, replay, replay_us = measure(counting, read_first, args.calls)
                    mode = "read_first" if read_first else "default"
                    print(
                        f"| {name} | {mode} | {first} | {first_us:.0f} | {replay} "
                        f"| {replay_us:.0f} | {raw_us:.0f} |"
                    )
        finally:
            redis_server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
