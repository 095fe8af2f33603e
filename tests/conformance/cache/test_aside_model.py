"""Cache-aside against a plain model: never a value older than this process's writes,
and a burst of concurrent misses on one key reads the store once (single-flight).

Hypothesis drives writes (put, update, delete, straight on the store or through the
helper) and reads (one, or a burst of threads on a key just invalidated); the model
is the store's own content. The store counts its reads and holds each read briefly,
so the threads of a burst really overlap.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from statekit import Item, Store
from statekit.cache import Cache
from statekit.cache.aside import CacheAside
from statekit.store.backends.memory import MemoryStore
from tests.conformance.model_settings import model_settings

SETTINGS = model_settings(ci=(10, 15), fuzz=(200, 40))
KEYS = ["p/a", "p/b", "p/c"]


class SlowCountingStore(Store):
    def __init__(self) -> None:
        super().__init__(MemoryStore())
        self.reads: dict[str, int] = {}
        self.active: dict[str, int] = {}
        self.most_at_once: dict[str, int] = {}  # the most concurrent reads seen per key
        self._lock = threading.Lock()

    def get(self, key: str) -> Item | None:
        with self._lock:
            self.reads[key] = self.reads.get(key, 0) + 1
            self.active[key] = self.active.get(key, 0) + 1
            self.most_at_once[key] = max(self.most_at_once.get(key, 0), self.active[key])
        try:
            item = super().get(key)
            time.sleep(0.02)  # a store round trip: long enough for a burst to pile up
            return item
        finally:
            with self._lock:
                self.active[key] -= 1


class AsideAgainstModel(RuleBasedStateMachine):
    cache: Cache

    def __init__(self) -> None:
        super().__init__()
        self.store = SlowCountingStore()
        self.aside = CacheAside(self.store, self.cache, ttl=30, prefix=f"m{uuid.uuid4().hex[:8]}:")
        self.model: dict[str, Any] = {}

    @rule(key=st.sampled_from(KEYS), value=st.integers(), through_helper=st.booleans())
    def put(self, key: str, value: int, through_helper: bool) -> None:
        (self.aside if through_helper else self.store).put(key, value)
        self.model[key] = value

    @rule(key=st.sampled_from(KEYS))
    def update(self, key: str) -> None:
        self.aside.update(key, lambda v: (v or 0) + 1)
        self.model[key] = self.model.get(key, 0) + 1

    @rule(key=st.sampled_from(KEYS))
    def delete(self, key: str) -> None:
        self.store.delete(key)
        self.model.pop(key, None)

    @rule(key=st.sampled_from(KEYS))
    def get(self, key: str) -> None:
        assert self.aside.get(key) == self.model.get(key)

    @rule(key=st.sampled_from(KEYS), threads=st.integers(2, 8))
    def burst_of_misses(self, key: str, threads: int) -> None:
        if key not in self.model:
            # A missing item is not cached, so a thread arriving after the flight
            # landed reads again: single-flight is about an existing item.
            self.store.put(key, 0)
            self.model[key] = 0
        self.aside.invalidate(key)
        before = self.store.reads.get(key, 0)
        self.store.most_at_once[key] = 0
        start = threading.Barrier(threads)

        def read(_: int) -> Any:
            start.wait()
            return self.aside.get(key)

        with ThreadPoolExecutor(threads) as pool:
            values = list(pool.map(read, range(threads)))
        assert values == [self.model[key]] * threads
        # Single-flight: never two store reads of the key at once (the others join the
        # flight). A thread whose cache miss came just before the fill and whose flight
        # lookup just after the flight ended starts one more, later: rare, and bounded.
        assert self.store.most_at_once[key] == 1
        assert self.store.reads[key] - before <= max(2, threads // 2)

    def teardown(self) -> None:
        for key in KEYS:
            self.aside.invalidate(key)


def test_cache_aside_matches_the_model(cache: Cache) -> None:
    machine = type("Machine", (AsideAgainstModel,), {"cache": cache})
    run_state_machine_as_test(machine, settings=SETTINGS)
