"""The Redis cache with ``cluster=true`` on a 3-node Redis Cluster (the stand-in for
ElastiCache Serverless): batches over many slots, the URL rules, clear errors for a
client of the wrong kind, an unreachable cluster, threads and fork.

The cache contract itself runs on the cluster too (``redis_cluster`` in conftest's
``CACHE_BACKENDS``).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("redis")

import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

from statekit import BackendUnavailable, InvalidURL, StatekitError
from statekit.cache import open_cache
from statekit.cache.backends.redis_cluster import RedisClusterCache
from tests.conformance.cache.cases.redis import redis_url
from tests.conformance.cache.cases.redis_cluster import redis_cluster_url
from tests.standins import redis_cluster as cluster_standin
from tests.standins.base import StandInPool

# Three attempts against refused connections: the backoffs (0.15 s) and little else.
GIVE_UP_BOUND_SECONDS = 1.0


@pytest.fixture
def cluster_url(standins: StandInPool) -> str:
    return redis_cluster_url(standins)


@pytest.fixture
def cluster(standins: StandInPool) -> cluster_standin.RedisClusterServers:
    found = standins.get("redis_cluster")
    assert isinstance(found, cluster_standin.RedisClusterServers)
    return found


def keys_per_node(cluster: cluster_standin.RedisClusterServers, pattern: str) -> list[int]:
    """How many keys matching ``pattern`` each node holds (asked node by node)."""
    counts = []
    for port in cluster.ports:
        node = redis.Redis(host="127.0.0.1", port=port)
        counts.append(sum(1 for _ in node.scan_iter(match=pattern, count=1000)))
        node.close()
    return counts


def test_batches_span_slots_on_every_node(
    cluster: cluster_standin.RedisClusterServers, cluster_url: str
) -> None:
    run = uuid.uuid4().hex[:8]
    cache = open_cache(f"{cluster_url}&prefix=spread{run}:")
    values = {f"p{i}/k": {"i": i} for i in range(300)}
    # A precondition, not the behaviour under test: the keys fall in many slots. CRC16 is
    # linear, so how many of 300 similar keys share a slot depends on the random prefix
    # (230 distinct slots were seen); 150 is still far more than the three nodes need.
    assert len({key_slot(f"spread{run}:{key}".encode()) for key in values}) > 150
    cache.set_many(values, ttl=60)
    counts = keys_per_node(cluster, f"spread{run}:*")
    assert all(counts) and sum(counts) == 300, counts  # every node holds some
    asked = ["missing/a", *values, "p7/k", "missing/b"]  # misses and a repeat, interleaved
    found = cache.get_many(asked)
    assert found == values  # misses left out, every hit whatever its slot
    assert cache.get("p299/k") == {"i": 299}
    assert cache.delete("p299/k") is True
    assert cache.get_many(["p299/k", "p0/k"]) == {"p0/k": {"i": 0}}


def test_keys_are_where_a_cluster_client_finds_them(
    cluster: cluster_standin.RedisClusterServers, cluster_url: str
) -> None:
    cache = open_cache(f"{cluster_url}&prefix=wire:")
    cache.set("w/k", {"a": [1, "ü"]}, ttl=30)
    raw = RedisCluster(host="127.0.0.1", port=cluster.port)
    assert raw.get("wire:w/k") == '{"a":[1,"ü"]}'.encode()
    assert 0 < raw.pttl("wire:w/k") <= 30_000
    raw.close()


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("redis://127.0.0.1:6379/1?cluster=true", "cluster=true needs database 0"),
        ("redis://127.0.0.1:6379/0?cluster=yes", "cluster must be 'true' or 'false'"),
        ("redis://127.0.0.1:6379/0?cluster=", "cluster must be 'true' or 'false'"),
    ],
)
def test_bad_cluster_urls_are_refused_with_the_reason(url: str, rule: str) -> None:
    with pytest.raises(InvalidURL, match=rule):
        open_cache(url)


def test_cluster_false_and_database_0_path_are_plain_and_cluster(cluster_url: str) -> None:
    assert not isinstance(open_cache("redis://127.0.0.1:1/0?cluster=false").backend,
                          RedisClusterCache)  # fmt: skip
    assert isinstance(open_cache(cluster_url.replace("/0?", "?")).backend, RedisClusterCache)


def test_a_plain_url_on_a_cluster_says_to_add_cluster_true(
    cluster: cluster_standin.RedisClusterServers, cluster_url: str
) -> None:
    finder = RedisCluster(host="127.0.0.1", port=cluster.port)
    elsewhere = next(  # a key another node serves: the URL's node answers MOVED
        f"p{i}/k"
        for i in range(1000)
        if finder.get_node_from_key(f"plain:p{i}/k").port != cluster.port  # type: ignore[no-untyped-call]
    )
    finder.close()
    plain = open_cache(cluster_url.replace("?cluster=true", "?prefix=plain:"))
    with pytest.raises(StatekitError, match="add cluster=true to the URL"):
        plain.get(elsewhere)
    plain.close()


def test_cluster_true_on_a_plain_server_says_to_remove_it(standins: StandInPool) -> None:
    cache = open_cache(f"{redis_url(standins)}?cluster=true")
    with pytest.raises(StatekitError, match=r"not a Redis Cluster.*remove cluster=true"):
        cache.get("k/k")
    cache.close()


@pytest.fixture
def own_cluster(tmp_path: Path) -> Iterator[cluster_standin.RedisClusterServers]:
    servers = cluster_standin.create(tmp_path)  # ours alone: other suites never see it down
    yield servers
    servers.stop()


def test_opening_connects_nothing_and_a_stopped_cluster_is_unavailable_then_recovers(
    own_cluster: cluster_standin.RedisClusterServers,
) -> None:
    cache = open_cache(own_cluster.url)  # nothing listens yet: opening must not care
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="unavailable"):
        cache.get("f/k")
    assert time.monotonic() - started < GIVE_UP_BOUND_SECONDS
    own_cluster.start()
    cache.set_many({f"f{i}/k": i for i in range(30)})
    own_cluster.stop()
    for call in (
        lambda: cache.get("f/k"),
        lambda: cache.set("f/k", 2),
        lambda: cache.get_many(["f1/k", "f2/k", "f3/k"]),
        lambda: cache.set_many({"f1/k": 2, "f2/k": 2}),
        lambda: cache.delete("f/k"),
    ):
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="unavailable"):
            call()
        assert time.monotonic() - started < GIVE_UP_BOUND_SECONDS
    own_cluster.start()  # same ports and slots, empty: the client finds it again
    cache.set("f/k", 3)
    assert cache.get("f/k") == 3
    assert cache.get_many(["f1/k", "f/k"]) == {"f/k": 3}
    cache.close()


def test_threads_share_the_cluster_client(cluster_url: str) -> None:
    cache = open_cache(f"{cluster_url}&prefix=threads:")
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(50):
                cache.set(f"t{worker}/k", [worker, i])
                assert cache.get(f"t{worker}/k") == [worker, i]
                assert cache.get_many([f"t{worker}/k", "t-none/k"]) == {f"t{worker}/k": [worker, i]}
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_a_forked_child_makes_its_own_cluster_client(cluster_url: str) -> None:
    cache = open_cache(f"{cluster_url}&prefix=fork:")
    cache.set_many({f"p{i}/k": i for i in range(20)})  # the parent is connected to every node
    pid = os.fork()
    if pid == 0:  # the child: must not talk over the parent's sockets
        code = 0
        try:
            for i in range(30):
                cache.set(f"c{i}/k", i)
                code |= cache.get(f"c{i}/k") != i
            code |= len(cache.get_many([f"p{i}/k" for i in range(20)])) != 20
        except BaseException:
            code = 1
        os._exit(code)
    for i in range(30):  # the parent keeps going at the same time
        cache.set(f"p{i % 20}/k", i)
        assert cache.get(f"p{i % 20}/k") == i
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache.get("c29/k") == 29
