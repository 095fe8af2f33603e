"""The Redis store with ``cluster=true`` on a 3-node Redis Cluster: key layout over the
slots, round trips per node, scripts, a slot that moves, URL rules, wrong client kind,
an unreachable cluster. (The whole store contract runs on it too:
tests/conformance/store/cases/redis_cluster.py.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("redis")

import redis
from redis.cluster import RedisCluster
from redis.crc import key_slot

import statekit
from benchmarks.store_targets import RoundTrips, count_redis_round_trips
from statekit import Put
from statekit.clients.redis_cluster import LazyCluster
from tests.standins import redis_cluster as cluster_standin
from tests.standins.base import StandInPool

PREFIX = "unit-cluster:"


@pytest.fixture(scope="module")
def cluster(standins: StandInPool) -> cluster_standin.RedisClusterServers:
    found = standins.get("redis_cluster")
    assert isinstance(found, cluster_standin.RedisClusterServers)
    return found


@pytest.fixture(scope="module")
def raw(cluster: cluster_standin.RedisClusterServers) -> Iterator[RedisCluster]:
    client = RedisCluster(host="127.0.0.1", port=cluster.port, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def store(cluster: cluster_standin.RedisClusterServers) -> Iterator[statekit.Store]:
    opened = statekit.open_store(f"{cluster.url}&prefix={PREFIX}")
    yield opened
    opened.close()


def command(client: Any, *args: Any) -> Any:
    """A raw command (redis-py's ``execute_command`` is untyped)."""
    return client.execute_command(*args)


def node_port(raw: RedisCluster, key: str) -> int:
    return int(raw.get_node_from_key(key).port)  # type: ignore[no-untyped-call]


def test_a_partition_is_one_slot_and_partitions_spread_over_every_node(
    store: statekit.Store, raw: RedisCluster, cluster: cluster_standin.RedisClusterServers
) -> None:
    run = uuid.uuid4().hex[:8]
    partitions = [f"s{run}{i}" for i in range(60)]
    store.put_many({f"{p}/a/b": {"p": p} for p in partitions}, ttl=60)
    ports = set()
    for p in partitions:
        item, index = f"{PREFIX}{{{p}}}:i:{p}/a/b", f"{PREFIX}{{{p}}}:idx"
        assert key_slot(item.encode()) == key_slot(index.encode()) == key_slot(p.encode())
        assert raw.hget(item, "v") == f'{{"p":"{p}"}}'
        assert raw.zrange(index, 0, -1) == [f"{p}/a/b"]
        ports.add(node_port(raw, item))
    assert ports == set(cluster.ports)


@pytest.fixture
def counted(store: statekit.Store) -> RoundTrips:
    """Round trips of the store's cluster client, summed over every node."""
    client = store.backend._client  # type: ignore[attr-defined]
    assert isinstance(client, LazyCluster)
    calls = RoundTrips()
    for node in client.client().get_nodes():  # type: ignore[no-untyped-call]
        redis_node = node.redis_connection
        assert isinstance(redis_node, redis.Redis)
        count_redis_round_trips(redis_node, calls)
        redis_node.connection_pool.reset()  # made before: drop them, so every one counts
    return calls


def calls_of(counted: RoundTrips, action: Any) -> int:
    counted.reset()
    action()
    return counted.read()


def test_one_round_trip_per_node_at_most(store: statekit.Store, counted: RoundTrips) -> None:
    run = uuid.uuid4().hex[:8]
    ns = f"r{run}"
    # A script's first use on a node loads it (NOSCRIPT, SCRIPT LOAD, EVALSHA): warm up.
    store.put(f"{ns}/warm", 0)
    store.increment(f"{ns}/warm")
    store.transact([Put(f"{ns}/warm", 0)])
    store.delete(f"{ns}/warm")
    store.put_many({f"w{run}{i}/k": i for i in range(30)})
    store.delete_many([f"w{run}{i}/k" for i in range(30)])
    first = store.put(f"{ns}/c", 1)
    assert calls_of(counted, lambda: store.put(f"{ns}/c", 2, if_match=first.etag)) == 1
    assert calls_of(counted, lambda: store.get(f"{ns}/c")) == 1
    assert calls_of(counted, lambda: store.increment(f"{ns}/c")) == 1
    assert calls_of(counted, lambda: store.transact([Put(f"{ns}/t1", 1), Put(f"{ns}/t2", 2)])) == 1
    assert calls_of(counted, lambda: store.list(f"{ns}/t", limit=10)) == 2
    # 200 partitions, hence about 200 slots: one pipeline per node.
    spread = {f"m{run}{i}/k": i for i in range(200)}
    assert calls_of(counted, lambda: store.put_many(spread)) <= 3
    assert calls_of(counted, lambda: store.get_many(list(spread))) <= 3
    assert store.get_many(list(spread))[f"m{run}199/k"].value == 199  # type: ignore[union-attr]
    assert calls_of(counted, lambda: store.delete_many(list(spread))) <= 3
    assert store.get(f"m{run}0/k") is None


def test_scripts_reload_after_a_script_flush_on_every_node(
    store: statekit.Store, raw: RedisCluster
) -> None:
    run = uuid.uuid4().hex[:8]
    raw.script_flush()  # on every primary
    store.put(f"f{run}/a", 1)
    raw.script_flush()  # on every primary
    result = store.put_many({f"f{run}{i}/b": i for i in range(30)})
    assert result.ok and store.get(f"f{run}29/b").value == 29  # type: ignore[union-attr]


def move_slot(
    slot: int, source: redis.Redis, target: redis.Redis, every: list[redis.Redis]
) -> None:
    """Migrate ``slot`` and its keys as ``redis-cli --cluster reshard`` does."""
    source_id, target_id = (
        command(source, "CLUSTER MYID"),
        command(target, "CLUSTER MYID"),
    )
    command(target, "CLUSTER SETSLOT", slot, "IMPORTING", source_id)
    command(source, "CLUSTER SETSLOT", slot, "MIGRATING", target_id)
    while keys := command(source, "CLUSTER GETKEYSINSLOT", slot, 100):
        port = target.connection_pool.connection_kwargs["port"]
        command(source, "MIGRATE", "127.0.0.1", port, "", 0, 5000, "KEYS", *keys)
    for node in every:
        command(node, "CLUSTER SETSLOT", slot, "NODE", target_id)


def test_a_slot_moved_under_the_client_is_followed(tmp_path: Path) -> None:
    servers = cluster_standin.create(tmp_path)  # ours alone: the others keep their slots
    servers.start()
    nodes = {port: redis.Redis(host="127.0.0.1", port=port) for port in servers.ports}
    store = statekit.open_store(servers.url)
    try:
        store.put_many({f"p/k{i}": i for i in range(5)})
        store.put_many({f"q{i}/k": i for i in range(20)})  # scripts loaded on every node
        slot = key_slot(b"p")
        owner = next(
            port
            for port, node in nodes.items()
            if command(node, "CLUSTER COUNTKEYSINSLOT", slot) > 0
        )
        target = next(port for port in servers.ports if port != owner)
        move_slot(slot, nodes[owner], nodes[target], list(nodes.values()))
        # The store's slot map is stale: every kind of call follows MOVED.
        assert store.get("p/k0").value == 0  # type: ignore[union-attr]
        store.put("p/k0", "moved")
        assert store.get_many(["p/k1", "q0/k"])["p/k1"].value == 1  # type: ignore[union-attr]
        assert store.put_many({"p/k9": 9, "q1/k": "x"}).ok
        assert store.list("p/").keys == ["p/k0", "p/k1", "p/k2", "p/k3", "p/k4", "p/k9"]
        assert store.increment("p/n") == 1
        assert store.transact([Put("p/k0", "t"), Put("p/k1", "t")]) is not None
        assert command(nodes[target], "CLUSTER COUNTKEYSINSLOT", slot) == 8
    finally:
        store.close()
        for node in nodes.values():
            node.close()
        servers.stop()


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("redis://127.0.0.1:6379/2?cluster=true", "cluster=true needs database 0"),
        ("redis://127.0.0.1:6379/0?cluster=1", "cluster must be 'true' or 'false'"),
    ],
)
def test_bad_cluster_urls_are_refused(url: str, rule: str) -> None:
    with pytest.raises(statekit.InvalidURL, match=rule):
        statekit.open_store(url)


def test_the_cluster_client_gets_the_urls_options() -> None:
    store = statekit.open_store("rediss://app@cache.example.com:6379/0?cluster=true")
    client = store.backend._client  # type: ignore[attr-defined]
    assert isinstance(client, LazyCluster)  # and nothing connected yet
    options = client.options
    assert "db" not in options and options["dynamic_startup_nodes"] is False
    assert options["ssl"] is True and options["ssl_cert_reqs"] == "required"
    assert options["ssl_check_hostname"] is True and options["username"] == "app"
    assert options["socket_timeout"] == options["socket_connect_timeout"] == 2.0
    assert options["retry"].get_retries() == 3 and options["decode_responses"] is True
    store.close()


def test_a_plain_url_on_a_cluster_says_to_add_cluster_true(
    cluster: cluster_standin.RedisClusterServers, raw: RedisCluster
) -> None:
    elsewhere = next(  # a partition another node serves: the URL's node answers MOVED
        f"p{i}" for i in range(1000) if node_port(raw, f"{PREFIX}{{p{i}}}:idx") != cluster.port
    )
    plain = statekit.open_store(cluster.url.replace("?cluster=true", f"?prefix={PREFIX}"))
    with pytest.raises(statekit.StatekitError, match="add cluster=true to the URL"):
        plain.put(f"{elsewhere}/k", 1)
    plain.close()


def test_cluster_true_on_a_plain_server_says_to_remove_it(standins: StandInPool) -> None:
    server = standins.get("redis")
    store = statekit.open_store(f"redis://127.0.0.1:{server.port}/0?cluster=true")
    with pytest.raises(statekit.StatekitError, match=r"not a Redis Cluster.*remove cluster=true"):
        store.get("k/k")
    store.close()


def test_an_unreachable_cluster_is_unavailable_and_opening_waits_for_nothing(
    tmp_path: Path,
) -> None:
    servers = cluster_standin.create(tmp_path)
    store = statekit.open_store(servers.url)  # nothing listens yet
    calls: list[Callable[[], object]] = [lambda: store.get("u/k"), lambda: store.put("u/k", 1)]
    for call in calls:
        with pytest.raises(statekit.BackendUnavailable, match="unavailable"):
            call()
    servers.start()
    try:
        store.put("u/k", 1)
        servers.stop()
        result = store.put_many({f"u{i}/k": i for i in range(10)})
        assert not result.succeeded and len(result.failed) == 10
        assert all(isinstance(e, statekit.BackendUnavailable) for e in result.failed.values())
        with pytest.raises(statekit.BackendUnavailable, match="unavailable"):
            store.get_many([f"u{i}/k" for i in range(10)])
        servers.start()  # same ports and slots, empty
        assert store.get("u/k") is None
        store.put("u/k", 2)
        assert store.get("u/k").value == 2  # type: ignore[union-attr]
    finally:
        store.close()
        servers.stop()


PASSWORD = "s3cret-for-cluster-tests"


class PasswordCluster(cluster_standin.RedisClusterServers):
    """Every node wants the password (``requirepass``), as ElastiCache's auth does."""

    def node_command(self, index: int) -> list[str]:
        return [*super().node_command(index), "--requirepass", PASSWORD, "--masterauth", PASSWORD]

    def _cli(self, *args: str, timeout: float = 20.0) -> Any:
        return super()._cli("-a", PASSWORD, "--no-auth-warning", *args, timeout=timeout)


@pytest.fixture(scope="module")
def password_cluster(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PasswordCluster]:
    servers = PasswordCluster(tmp_path_factory.mktemp("redis-cluster-auth"))
    servers.start()
    yield servers
    servers.stop()


def test_a_password_reaches_every_node(
    password_cluster: PasswordCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATEKIT_TEST_REDIS_PASSWORD", PASSWORD)
    url = f"{password_cluster.url}&password_env=STATEKIT_TEST_REDIS_PASSWORD"
    store = statekit.open_store(url)
    spread = {f"a{i}/k": i for i in range(60)}  # partitions on all three nodes
    assert store.put_many(spread).ok
    assert len(store.get_many(list(spread))) == 60
    store.close()
    cache = statekit.open_cache(url)
    cache.set_many(spread)
    assert cache.get_many(list(spread)) == spread
    cache.close()


def test_a_wrong_password_is_a_clear_error(
    password_cluster: PasswordCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATEKIT_TEST_REDIS_PASSWORD", "wrong")
    url = f"{password_cluster.url}&password_env=STATEKIT_TEST_REDIS_PASSWORD&prefix=wrong:"
    store = statekit.open_store(url)
    with pytest.raises(statekit.StatekitError, match="refused the credentials") as raised:
        store.get("auth/a")
    assert not isinstance(raised.value, statekit.BackendUnavailable)
    store.close()
    cache = statekit.open_cache(url)  # the cache: unavailable, naming the cause
    with pytest.raises(statekit.BackendUnavailable, match=r"(?i)invalid|auth|password"):
        cache.get("auth/a")
    cache.close()
