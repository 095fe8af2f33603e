"""Redis backend specifics on redis-server: URL and auth, key layout, index, calls, retry safety."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("redis")

import redis

import statekit
from benchmarks.store_targets import RoundTrips, count_redis_round_trips
from statekit import Put
from tests.standins import redis as redis_module
from tests.standins.base import StandInPool

PREFIX = "unit-store:"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("redis://127.0.0.1:6379/0?prefix=a{b", "hash tags"),
        ("redis://127.0.0.1:6379/0?ttl=5", "unknown query parameter 'ttl'"),
        ("redis://user:hunter2@127.0.0.1:6379/0", "never goes in the URL"),
        ("redis://127.0.0.1:6379/0?password_env=STATEKIT_TEST_UNSET_VAR", "not set"),
        ("redis://127.0.0.1:6379/zero", "database number"),
    ],
)
def test_bad_redis_urls_are_refused(url: str, rule: str) -> None:
    with pytest.raises(statekit.InvalidURL, match=rule):
        statekit.open_store(url)


@pytest.fixture(scope="module")
def server(standins: StandInPool) -> redis_module.RedisServer:
    return standins.get("redis")  # type: ignore[return-value]


@pytest.fixture(scope="module")
def opened(server) -> Iterator[tuple[statekit.Store, object, RoundTrips]]:
    store = statekit.open_store(f"{server.url}?prefix={PREFIX}")
    calls = RoundTrips()
    count_redis_round_trips(store.backend._client, calls)  # type: ignore[attr-defined]
    raw = redis.Redis(host="127.0.0.1", port=server.port, decode_responses=True)
    yield store, raw, calls
    store.close()
    raw.close()


def calls_of(opened, action) -> int:
    calls: RoundTrips = opened[2]
    calls.reset()
    action()
    return calls.read()


def test_key_layout_index_and_native_expiry(opened) -> None:
    store, raw, _ = opened
    ns = f"l{uuid.uuid4().hex[:8]}"
    written = store.put(f"{ns}/a/b", {"x": 1}, ttl=30)
    item_key = f"{PREFIX}{{{ns}}}:i:{ns}/a/b"
    assert raw.hgetall(item_key) == {
        "v": '{"x":1}',
        "e": written.etag,
        "x": repr(written.expires_at),
    }
    assert 0 < raw.pttl(item_key) <= 30_000
    assert raw.zrange(f"{PREFIX}{{{ns}}}:idx", 0, -1) == [f"{ns}/a/b"]
    store.put(f"{ns}/a/b", 1)  # a write without ttl removes it
    assert raw.pttl(item_key) == -1 and "x" not in raw.hgetall(item_key)
    store.delete(f"{ns}/a/b")
    assert not raw.exists(item_key) and raw.zcard(f"{PREFIX}{{{ns}}}:idx") == 0


def test_listing_uses_the_index_never_keys_or_scan(opened) -> None:
    store, raw, _ = opened
    ns = f"s{uuid.uuid4().hex[:8]}"
    store.put_many({f"{ns}/k{i:02d}": i for i in range(20)})
    raw.config_resetstat()
    assert store.list(f"{ns}/k1", limit=50).keys == [f"{ns}/k{i}" for i in range(10, 20)]
    stats = raw.info("commandstats")
    assert "cmdstat_zrangebylex" in stats
    assert not {"cmdstat_keys", "cmdstat_scan"} & set(stats)


def test_expired_members_leave_the_index_lazily(opened) -> None:
    store, raw, _ = opened
    ns = f"x{uuid.uuid4().hex[:8]}"
    short = store.put(f"{ns}/gone", 1, ttl=0.2)
    store.put(f"{ns}/kept", 2)
    time.sleep(short.expires_at - time.time() + 0.3)  # redis itself has removed the hash by now
    assert store.get(f"{ns}/gone") is None
    assert raw.zcard(f"{PREFIX}{{{ns}}}:idx") == 2
    assert store.list(f"{ns}/").keys == [f"{ns}/kept"]
    assert raw.zrange(f"{PREFIX}{{{ns}}}:idx", 0, -1) == [f"{ns}/kept"]


def test_each_operation_is_the_fewest_round_trips(opened) -> None:
    store = opened[0]
    ns = f"r{uuid.uuid4().hex[:8]}"
    # A script's first use on a server loads it (NOSCRIPT, SCRIPT LOAD, EVALSHA): warm up.
    store.increment(f"{ns}/warm")
    store.transact([Put(f"{ns}/warm", 0)])
    store.list(f"{ns}/")
    store.delete(f"{ns}/warm")
    first = store.put(f"{ns}/c", 1)
    assert calls_of(opened, lambda: store.put(f"{ns}/c", 2, if_match=first.etag)) == 1
    assert calls_of(opened, lambda: store.get(f"{ns}/c")) == 1
    assert calls_of(opened, lambda: store.increment(f"{ns}/c")) == 1
    assert calls_of(opened, lambda: store.put_many({f"{ns}/m{i}": i for i in range(100)})) == 1
    assert calls_of(opened, lambda: store.get_many([f"{ns}/m{i}" for i in range(100)])) == 1
    # A listing page is two: the index range, then the items (a script may not read
    # keys it does not declare, and the members are not known before the range).
    assert calls_of(opened, lambda: store.list(f"{ns}/m", limit=10)) == 2
    assert calls_of(opened, lambda: store.transact([Put(f"{ns}/t1", 1), Put(f"{ns}/t2", 2)])) == 1
    assert calls_of(opened, lambda: store.delete(f"{ns}/t1")) == 1

    def conflict() -> None:
        with pytest.raises(statekit.Conflict) as raised:
            store.put(f"{ns}/c", 9, if_match=first.etag)
        assert raised.value.current_reported and raised.value.current.value == 3  # type: ignore[union-attr]

    assert calls_of(opened, conflict) == 1


def test_scripts_reload_after_a_script_flush(opened) -> None:
    store, raw, _ = opened
    ns = f"f{uuid.uuid4().hex[:8]}"
    raw.script_flush()  # as after a failover to a replica that never saw them
    store.put(f"{ns}/a", 1)
    raw.script_flush()
    result = store.put_many({f"{ns}/b{i}": i for i in range(3)})
    assert result.ok and store.get(f"{ns}/b2").value == 2


def test_a_retried_write_is_applied_once(opened) -> None:
    """redis-py resends a command whose reply was lost; the fresh etag makes that harmless."""
    store = opened[0]
    backend = store.backend
    ns = f"i{uuid.uuid4().hex[:8]}"
    now = time.time()
    assert backend.increment(f"{ns}/n", 5, "etag-one", now) == 5
    assert backend.increment(f"{ns}/n", 5, "etag-one", now) == 5  # the same call again
    assert backend.increment(f"{ns}/n", 5, "etag-two", now) == 10
    first = store.put(f"{ns}/p", "v1")
    op = store._prepare_put(f"{ns}/p", "v2", first.etag, False, None)
    backend.put(op, now)
    backend.put(op, now)  # a resend of a successful if_match write: success, not Conflict
    assert store.get(f"{ns}/p").value == "v2"


def test_increment_refuses_what_redis_cannot_add(opened) -> None:
    store = opened[0]
    ns = f"v{uuid.uuid4().hex[:8]}"
    for value in (1.5, 2**63, "7", True):
        store.put(f"{ns}/k", value)
        with pytest.raises(statekit.InvalidValue):
            store.increment(f"{ns}/k")
        assert store.get(f"{ns}/k").value == value
    store.put(f"{ns}/k", 2**63 - 1)
    with pytest.raises(statekit.InvalidValue, match="overflow"):
        store.increment(f"{ns}/k")


class PasswordRedis(redis_module.RedisServer):
    name = "redis-auth"

    def command(self) -> list[str]:
        return [*super().command(), "--requirepass", "s3cret-for-tests"]


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PasswordRedis]:
    server = PasswordRedis(tmp_path_factory.mktemp("redis-auth"))
    server.start()
    yield server
    server.stop()


def test_password_from_the_environment(auth_server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATEKIT_TEST_REDIS_PASSWORD", "s3cret-for-tests")
    url = f"{auth_server.url}?password_env=STATEKIT_TEST_REDIS_PASSWORD&prefix=auth:"
    store = statekit.open_store(url)
    store.put("auth/a", 1)
    assert store.get("auth/a").value == 1  # type: ignore[union-attr]
    store.close()


def test_a_wrong_password_is_a_clear_error_not_unavailable(
    auth_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATEKIT_TEST_REDIS_PASSWORD", "wrong")
    store = statekit.open_store(f"{auth_server.url}?password_env=STATEKIT_TEST_REDIS_PASSWORD")
    started = time.monotonic()
    with pytest.raises(statekit.StatekitError, match=r"credentials|password") as raised:
        store.get("auth/a")
    assert not isinstance(raised.value, statekit.BackendUnavailable)
    assert time.monotonic() - started < 5
    store.close()


def test_password_from_secrets_manager(
    auth_server, standins: StandInPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("boto3")
    import boto3

    moto = standins.get("moto")
    for name, value in moto.client_env().items():
        monkeypatch.setenv(name, value)
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(
        Name=f"redis-{uuid.uuid4().hex[:8]}",
        SecretString=json.dumps({"username": "default", "password": "s3cret-for-tests"}),
    )["ARN"]
    store = statekit.open_store(f"{auth_server.url}?password_secret={arn}&prefix=secret:")
    store.put("auth/s", "ok")
    assert store.get("auth/s").value == "ok"  # type: ignore[union-attr]
    store.close()


def test_rediss_turns_on_verified_tls(tmp_path: Path) -> None:
    store = statekit.open_store("rediss://cache.example.com:6380/0")
    kwargs = store.backend._client.connection_pool.connection_kwargs  # type: ignore[attr-defined]
    assert store.backend._client.connection_pool.connection_class.__name__ == "SSLConnection"  # type: ignore[attr-defined]
    assert kwargs["ssl_cert_reqs"] == "required" and kwargs["ssl_check_hostname"] is True
    store.close()
