"""What the cache suites cannot see of Memcached, on Debian's memcached.

The 30-day rule (a relative TTL past 30 days must be sent as a Unix time, or the
server drops the entry at once), keys Memcached cannot take as they are, the
declared limitations, bad URLs, and an outage: bounded BackendUnavailable, then
recovery on the same client.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pymemcache")

from pymemcache.client.base import Client

from statekit import BackendUnavailable, InvalidURL
from statekit.cache import Cache, open_cache
from statekit.cache.backends.memcached import (
    RELATIVE_TTL_LIMIT,
    MemcachedCache,
    memcached_exptime,
)
from statekit.store.rules import MAX_KEY_BYTES
from tests.standins.base import StandInPool
from tests.standins.memcached import MemcachedServer

DAY = 24 * 3600
BOUND_SECONDS = 5.0


@pytest.fixture(scope="module")
def server(standins: StandInPool) -> MemcachedServer:
    found = standins.get("memcached")
    assert isinstance(found, MemcachedServer)
    return found


@pytest.fixture
def cache(server: MemcachedServer) -> Iterator[Cache]:
    opened = open_cache(server.url + "?prefix=mc:")
    yield opened
    opened.close()


def test_relative_ttls_past_30_days_become_unix_times() -> None:
    now = 1_900_000_000.0
    assert memcached_exptime(10_000, now) == 11  # whole seconds, rounded up, plus one
    assert memcached_exptime((RELATIVE_TTL_LIMIT - 1) * 1000, now) == RELATIVE_TTL_LIMIT
    assert memcached_exptime(40 * DAY * 1000, now) == int(now) + 40 * DAY + 1


@pytest.mark.parametrize("days", [29, 31, 365])
def test_long_ttls_keep_the_entry_on_the_server(cache: Cache, days: int) -> None:
    # Sent as a relative time, 31 days would be read as a Unix time in 1970: gone at once.
    cache.set(f"long/{days}", days, ttl=days * DAY)
    assert cache.get(f"long/{days}") == days


def test_keys_memcached_cannot_take_as_they_are(cache: Cache, server: MemcachedServer) -> None:
    keys = ["with space/k", "ünïcode/k", "#looks-hashed/k", "x/" + "k" * (MAX_KEY_BYTES - 2)]
    for n, key in enumerate(keys):
        cache.set(key, n)
    assert [cache.get(key) for key in keys] == list(range(len(keys)))
    assert cache.get_many(keys) == {key: n for n, key in enumerate(keys)}
    # A plain key goes to the server as it is (other clients can read it by name).
    cache.set("plain/k", "v")
    raw = Client(("127.0.0.1", server.port))
    assert raw.get("mc:plain/k") == b'"v"'
    raw.close()


def test_limitations_are_declared() -> None:
    joined = " ".join(MemcachedCache.limitations)
    assert "no persistence" in joined and "evicts" in joined


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("memcached://user@cache.example.com:11211", "takes no user name or credentials"),
        ("memcached://cache.example.com:11211/0", "no path"),
        ("memcached://cache.example.com?tls=yes", "tls must be"),
        ("memcached://cache.example.com?prefix=a%20b", "prefix must be"),
        ("memcached://?prefix=x", "needs a host"),
        ("memcached://cache.example.com?db=1", "unknown query parameter"),
    ],
)
def test_bad_urls_are_refused(url: str, rule: str) -> None:
    with pytest.raises(InvalidURL, match=rule):
        open_cache(url)


def test_tls_true_verifies_the_server() -> None:
    cache = open_cache("memcached://cache.example.com:11211?tls=true")
    backend = cache.backend
    assert isinstance(backend, MemcachedCache) and backend._tls is not None
    assert backend._tls.check_hostname
    cache.close()


def test_stopped_server_is_unavailable_within_a_bound_then_recovers(tmp_path: Path) -> None:
    server = MemcachedServer(tmp_path)  # our own: other tests never see it down
    server.start()
    cache = open_cache(server.url)
    try:
        cache.set("f/k", 1)
        server.stop()
        for call in (
            lambda: cache.get("f/k"),
            lambda: cache.set("f/k", 2),
            lambda: cache.get_many(["f/k"]),
            lambda: cache.delete("f/k"),
        ):
            started = time.monotonic()
            with pytest.raises(BackendUnavailable):
                call()
            assert time.monotonic() - started < BOUND_SECONDS
        server.start()  # same port; Memcached kept nothing
        assert cache.get("f/k") is None
        cache.set("f/k", 3)
        assert cache.get("f/k") == 3
    finally:
        cache.close()
        server.stop()
