"""Cache-aside over a store, on the memory cache and on redis-server.

A ``CountingStore`` (a real ``Store`` over the memory backend, counting its
reads and optionally holding one read after it returns) makes single-flight
and the stale-fill race observable without any mock of the cache.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from statekit import InvalidOption, Item, Store
from statekit.cache import Cache
from statekit.cache.aside import CacheAside
from statekit.store.backends.memory import MemoryStore


class CountingStore(Store):
    def __init__(self, read_delay: float = 0.0) -> None:
        super().__init__(MemoryStore())
        self.reads = 0
        self.read_delay = read_delay
        self._count_lock = threading.Lock()
        # When set: the next read signals ``read_done`` after reading, then waits for ``resume``.
        self.hold_next_read = False
        self.read_done = threading.Event()
        self.resume = threading.Event()

    def get(self, key: str) -> Item | None:
        with self._count_lock:
            self.reads += 1
            hold, self.hold_next_read = self.hold_next_read, False
        item = super().get(key)
        if self.read_delay:
            time.sleep(self.read_delay)
        if hold:
            self.read_done.set()
            assert self.resume.wait(10), "test never resumed the held read"
        return item


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def aside(store: CountingStore, cache: Cache, ns: str) -> CacheAside:
    return CacheAside(store, cache, ttl=30, prefix=f"{ns}-aside:")


def test_miss_reads_the_store_once_then_hits(aside: CacheAside, store: CountingStore) -> None:
    store.put("p/k", {"v": 1})
    assert aside.get("p/k") == {"v": 1}
    assert aside.get("p/k") == {"v": 1}
    assert store.reads == 1


def test_missing_item_returns_default_and_is_not_cached(
    aside: CacheAside, store: CountingStore
) -> None:
    assert aside.get("p/none", "dflt") == "dflt"
    aside.put("p/none", 5)
    assert aside.get("p/none") == 5


def test_writes_through_the_helper_invalidate(aside: CacheAside, store: CountingStore) -> None:
    aside.put("p/k", 1)
    assert aside.get("p/k") == 1
    aside.put("p/k", 2)
    assert aside.get("p/k") == 2
    aside.update("p/k", lambda v: v + 10)
    assert aside.get("p/k") == 12
    assert aside.delete("p/k") is True
    assert aside.get("p/k") is None


def test_writes_straight_on_the_store_invalidate_too(
    aside: CacheAside, store: CountingStore
) -> None:
    store.put("p/k", 1)
    assert aside.get("p/k") == 1
    store.put("p/k", 2)
    assert aside.get("p/k") == 2
    store.increment("p/n")
    assert aside.get("p/n") == 1
    store.increment("p/n")
    assert aside.get("p/n") == 2
    store.put_many({"p/k": 3})
    assert aside.get("p/k") == 3
    store.delete_many(["p/k"])
    assert aside.get("p/k") is None


def test_conditional_write_options_pass_through(aside: CacheAside) -> None:
    first = aside.put("p/k", 1, if_absent=True)
    assert aside.get("p/k") == 1
    aside.put("p/k", 2, if_match=first.etag)
    assert aside.get("p/k") == 2


def test_burst_of_misses_makes_one_store_read(cache: Cache, ns: str) -> None:
    store = CountingStore(read_delay=0.3)
    aside = CacheAside(store, cache, ttl=30, prefix=f"{ns}-burst:")
    store.put("p/hot", {"hot": True})
    start = threading.Barrier(20)

    def read(_: int) -> Any:
        start.wait()
        return aside.get("p/hot")

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(read, range(20)))
    assert results == [{"hot": True}] * 20
    assert store.reads == 1


def test_followers_get_the_leaders_error(cache: Cache, ns: str) -> None:
    class FailingStore(CountingStore):
        def get(self, key: str) -> Item | None:
            super().get(key)
            raise RuntimeError("store down")

    store = FailingStore(read_delay=0.2)
    aside = CacheAside(store, cache, ttl=30, prefix=f"{ns}-fail:")
    start = threading.Barrier(5)

    def read(_: int) -> str:
        start.wait()
        try:
            aside.get("p/k")
        except RuntimeError as exc:
            return str(exc)
        return "no error"

    with ThreadPoolExecutor(5) as pool:
        assert list(pool.map(read, range(5))) == ["store down"] * 5
    assert store.reads == 1


def test_cached_copy_expires_with_the_helper_ttl(cache: Cache, ns: str) -> None:
    store = CountingStore()
    aside = CacheAside(store, cache, ttl=0.3, prefix=f"{ns}-ttl:")
    store.put("p/k", "v")
    assert aside.get("p/k") == "v"
    assert aside.get("p/k") == "v"
    assert store.reads == 1
    time.sleep(0.45)
    assert aside.get("p/k") == "v"
    assert store.reads == 2


def test_cached_copy_never_outlives_the_item(aside: CacheAside, store: CountingStore) -> None:
    store.put("p/k", "short-lived", ttl=0.3)  # the helper's ttl is 30 s
    assert aside.get("p/k") == "short-lived"
    time.sleep(0.45)
    assert aside.get("p/k") is None


def test_slow_fill_after_a_write_is_discarded(aside: CacheAside, store: CountingStore) -> None:
    """A reader that read before a write must not cache its old value after the write."""
    store.put("p/k", "old")
    store.hold_next_read = True
    slow = ThreadPoolExecutor(1)
    slow_result = slow.submit(aside.get, "p/k")
    assert store.read_done.wait(5)  # it has read "old" and not filled yet
    aside.put("p/k", "new")  # invalidates while the slow reader holds "old"
    store.resume.set()
    assert slow_result.result(5) == "old"  # its call started before the write: fine
    slow.shutdown()
    assert aside.get("p/k") == "new"  # but "old" was never cached
    assert aside.cache.get(f"{aside.prefix}p/k") == "new"


def test_reader_arriving_after_a_write_does_not_join_an_older_read(
    aside: CacheAside, store: CountingStore
) -> None:
    store.put("p/k", "old")
    store.hold_next_read = True
    slow = ThreadPoolExecutor(1)
    slow_result = slow.submit(aside.get, "p/k")
    assert store.read_done.wait(5)
    aside.put("p/k", "new")
    assert aside.get("p/k") == "new"  # a fresh read, not the held pre-write one
    store.resume.set()
    assert slow_result.result(5) == "old"
    slow.shutdown()
    assert aside.get("p/k") == "new"


def test_invalidate_drops_the_cached_copy(aside: CacheAside, store: CountingStore) -> None:
    store.put("p/k", 1)
    assert aside.get("p/k") == 1
    aside.invalidate("p/k")
    assert aside.get("p/k") == 1
    assert store.reads == 2


@pytest.mark.parametrize("ttl", [0, -1, "5", None])
def test_bad_options_are_refused(store: CountingStore, cache: Cache, ttl: Any) -> None:
    with pytest.raises(InvalidOption, match="ttl"):
        CacheAside(store, cache, ttl=ttl)


def test_store_and_cache_must_be_statekit_objects(store: CountingStore, cache: Cache) -> None:
    with pytest.raises(InvalidOption, match="store must be"):
        CacheAside({}, cache, ttl=1)  # type: ignore[arg-type]
    with pytest.raises(InvalidOption, match="cache must be"):
        CacheAside(store, {}, ttl=1)  # type: ignore[arg-type]


def test_helpers_made_per_call_leave_no_listeners_behind(cache: Cache, ns: str) -> None:
    import gc

    store = CountingStore()
    for _ in range(50):
        CacheAside(store, cache, ttl=5, prefix=f"{ns}-tmp:").get("p/k")
    gc.collect()
    assert len(store._listeners) == 1
    kept = CacheAside(store, cache, ttl=5, prefix=f"{ns}-kept:")
    store.put("p/k", 1)
    assert kept.get("p/k") == 1
    store.put("p/k", 2)  # the one shared listener still reaches the live helper
    assert kept.get("p/k") == 2
    assert len(store._listeners) == 1


def test_get_many_mixes_hits_and_one_batch_of_misses(
    aside: CacheAside, store: CountingStore
) -> None:
    store.put_many({"p/a": 1, "p/b": 2, "p/c": {"x": 3}})
    assert aside.get("p/a") == 1  # cached
    assert aside.get_many(["p/c", "p/a", "p/missing", "p/b", "p/a"]) == {
        "p/c": {"x": 3},
        "p/a": 1,
        "p/b": 2,
    }
    reads_before = store.reads
    assert aside.get_many(["p/b", "p/c"]) == {"p/b": 2, "p/c": {"x": 3}}  # now all cached
    assert store.reads == reads_before
    store.put("p/b", 20)
    assert aside.get_many(["p/b", "p/c"]) == {"p/b": 20, "p/c": {"x": 3}}
    with pytest.raises(InvalidOption, match="not one string"):
        aside.get_many("p/a")


def test_readers_never_see_a_value_older_than_a_finished_write(cache: Cache, ns: str) -> None:
    """Under concurrent reads and writes: a read that starts after a write returned
    sees that write or a newer one, never an older cached value."""
    store = CountingStore()
    aside = CacheAside(store, cache, ttl=30, prefix=f"{ns}-stress:")
    aside.put("p/v", 0)
    committed = 0  # the last version whose put has returned
    stop = threading.Event()
    stale: list[tuple[int, int]] = []

    def reader() -> None:
        while not stop.is_set():
            floor = committed
            seen = aside.get("p/v")
            if seen < floor:
                stale.append((seen, floor))

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    for version in range(1, 150):
        aside.put("p/v", version)
        committed = version
        if version % 10 == 0:
            time.sleep(0.005)  # let readers fill the cache between bursts of writes
    stop.set()
    for thread in readers:
        thread.join()
    assert stale == []
    assert aside.get("p/v") == 149
