"""The in-process cache: a bounded LRU, thread-safe, configured by its URL."""

from __future__ import annotations

import threading

import pytest

from statekit import InvalidURL
from statekit.cache import Cache, open_cache
from statekit.cache.backends.memory import DEFAULT_MAX_ENTRIES, MemoryCache


def test_default_cache_is_the_in_process_lru() -> None:
    cache = open_cache()
    assert isinstance(cache.backend, MemoryCache)
    assert cache.backend.max_entries == DEFAULT_MAX_ENTRIES


def test_least_recently_used_entry_is_evicted_first() -> None:
    cache = open_cache("memory://?max_entries=3")
    for name in "abc":
        cache.set(f"lru/{name}", name)
    assert cache.get("lru/a") == "a"  # a is now the most recently used
    cache.set("lru/d", "d")
    assert cache.get_many(["lru/a", "lru/b", "lru/c", "lru/d"]) == {
        "lru/a": "a",
        "lru/c": "c",
        "lru/d": "d",
    }
    assert len(cache.backend) == 3  # type: ignore[arg-type]


def test_expired_entry_is_not_reported_as_deleted() -> None:
    cache = Cache(MemoryCache())
    cache.set("e/k", 1, ttl=0.001)
    threading.Event().wait(0.01)
    assert cache.delete("e/k") is False


def test_threads_share_it_safely() -> None:
    cache = Cache(MemoryCache(max_entries=50))
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(300):
                cache.set(f"t/{worker}-{i % 80}", i, ttl=5)
                cache.get(f"t/{(worker + 1) % 8}-{i % 80}")
                cache.get_many([f"t/{worker}-{j}" for j in range(5)])
                cache.delete(f"t/{worker}-{(i + 40) % 80}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache.backend) <= 50  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("memory://shared", "takes no name"),
        ("memory://?max_entries=0", "positive integer"),
        ("memory://?max_entries=ten", "positive integer"),
        ("memory://?size=3", "unknown query parameter 'size'"),
        ("memcached://host", "unknown scheme"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, rule: str) -> None:
    with pytest.raises(InvalidURL, match=rule):
        open_cache(url)


def test_cache_url_variable_names_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATEKIT_CACHE_URL", "memory://?max_entries=-1")
    with pytest.raises(InvalidURL, match="STATEKIT_CACHE_URL"):
        open_cache()
