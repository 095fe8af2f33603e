"""Concurrent read-modify-write and atomic increments end exact on every backend."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import statekit

THREADS = 8
PER_THREAD = 50


def test_threads_updating_one_key_lose_nothing(store: statekit.Store, ns: str) -> None:
    key = f"{ns}/counter"

    def work(_: int) -> None:
        for _ in range(PER_THREAD):
            store.update(key, lambda v: (v or 0) + 1, attempts=1000)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, range(THREADS)))
    assert store.get(key).value == THREADS * PER_THREAD  # type: ignore[union-attr]


def test_threads_incrementing_one_key_lose_nothing(store: statekit.Store, ns: str) -> None:
    key = f"{ns}/counter"

    def work(_: int) -> list[int]:
        return [store.increment(key) for _ in range(PER_THREAD)]

    with ThreadPoolExecutor(THREADS) as pool:
        returned = [n for chunk in pool.map(work, range(THREADS)) for n in chunk]
    assert store.get(key).value == THREADS * PER_THREAD  # type: ignore[union-attr]
    assert sorted(returned) == list(range(1, THREADS * PER_THREAD + 1))  # each value seen once
