"""DynamoDB backend specifics on moto: URL, item layout, native TTL attribute, calls per operation."""

from __future__ import annotations

import math
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("boto3")

import statekit
from benchmarks.store_targets import RoundTrips, count_boto3_requests
from modules.common.settings import TTL_ATTRIBUTE as PROVISIONED_TTL_ATTRIBUTE
from statekit import Conflict, Put
from statekit.store.backends.dynamodb.store import TTL_ATTRIBUTE, DynamoDBStore
from statekit.urls import parse_url
from tests.conformance.store.resend import assert_a_resent_write_is_applied_once
from tests.standins.base import StandInPool
from tests.standins.dynamodb_table import create_store_table, dynamodb_client


def test_ttl_attribute_is_the_one_the_table_construct_enables() -> None:
    assert TTL_ATTRIBUTE == PROVISIONED_TTL_ATTRIBUTE


def backend_for(url: str) -> DynamoDBStore:
    return DynamoDBStore.from_url(parse_url(url, allowed_schemes=["dynamodb"]))


def test_table_name_keeps_its_case_and_region_is_read() -> None:
    backend = backend_for("dynamodb://Orders-Prod?region=eu-west-1")
    assert backend.table == "Orders-Prod"
    assert backend.region == "eu-west-1"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("dynamodb://t?region=us-east-1", "table name"),
        ("dynamodb://table/extra?region=us-east-1", "no path"),
        ("dynamodb://table?region=us-east-1&consistent=no", "unknown query parameter 'consistent'"),
        ("dynamodb://table?region=us-east-1&endpoint=localhost:4566", "http"),
    ],
)
def test_bad_dynamodb_urls_are_refused(url: str, rule: str) -> None:
    with pytest.raises(statekit.InvalidURL, match=rule):
        statekit.open_store(url)


def test_missing_region_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(statekit.StatekitError, match="region"):
        backend_for("dynamodb://table-without-region")


@pytest.fixture(scope="module")
def table(standins: StandInPool) -> Iterator[tuple[statekit.Store, object, RoundTrips]]:
    moto = standins.get("dynamodb")  # moto, DynamoDB requests atomic (see the stand-in)
    os.environ.update(moto.client_env())
    name = f"unit-{uuid.uuid4().hex[:8]}"
    create_store_table(moto.endpoint, name)
    store = statekit.open_store(f"dynamodb://{name}?region=us-east-1")
    calls = RoundTrips()
    count_boto3_requests(store.backend.client, calls)  # type: ignore[attr-defined]
    raw = dynamodb_client(moto.endpoint)
    yield store, (raw, name), calls
    store.close()
    raw.close()


def raw_item(table: tuple[Any, ...], key: str) -> dict[str, Any]:
    raw, name = table[1]
    found = raw.get_item(
        TableName=name,
        Key={"pk": {"S": key.split("/", maxsplit=1)[0]}, "sk": {"S": key}},
        ConsistentRead=True,
    )
    item: dict[str, Any] = found.get("Item", {})
    return item


def test_item_layout_and_native_ttl_attribute(table) -> None:
    store = table[0]
    ns = f"l{uuid.uuid4().hex[:8]}"
    written = store.put(f"{ns}/a/b", {"x": 1}, ttl=30)
    item = raw_item(table, f"{ns}/a/b")
    assert item["pk"] == {"S": ns} and item["sk"] == {"S": f"{ns}/a/b"}
    assert item["v"] == {"S": '{"x":1}'} and item["etag"] == {"S": written.etag}
    assert float(item["expires_at"]["N"]) == written.expires_at
    assert item[TTL_ATTRIBUTE] == {"N": str(math.ceil(written.expires_at))}
    store.put(f"{ns}/n", 7)
    assert raw_item(table, f"{ns}/n")["n"] == {"N": "7"}  # native number: increment is one ADD
    assert "v" not in raw_item(table, f"{ns}/n")
    store.put(f"{ns}/big", 10**40)  # past DynamoDB's 38 digits: kept as JSON text
    assert store.get(f"{ns}/big").value == 10**40


def calls_of(table, action) -> int:
    calls: RoundTrips = table[2]
    calls.reset()
    action()
    return calls.read()


def test_each_operation_is_the_fewest_calls(table) -> None:
    store = table[0]
    ns = f"r{uuid.uuid4().hex[:8]}"
    first = store.put(f"{ns}/c", 1)
    assert calls_of(table, lambda: store.put(f"{ns}/c", 2, if_match=first.etag)) == 1
    assert calls_of(table, lambda: store.get(f"{ns}/c")) == 1
    assert calls_of(table, lambda: store.increment(f"{ns}/new-counter")) == 1
    assert calls_of(table, lambda: store.increment(f"{ns}/new-counter", 5)) == 1
    assert calls_of(table, lambda: store.put_many({f"{ns}/m{i}": i for i in range(100)})) == 4
    assert calls_of(table, lambda: store.get_many([f"{ns}/m{i}" for i in range(100)])) == 1
    assert calls_of(table, lambda: store.get_many([f"{ns}/m{i}" for i in range(101)])) == 2
    assert calls_of(table, lambda: store.list(f"{ns}/m", limit=10)) == 1
    assert calls_of(table, lambda: store.transact([Put(f"{ns}/t1", 1), Put(f"{ns}/t2", 2)])) == 1
    assert calls_of(table, lambda: store.delete_many([f"{ns}/m{i}" for i in range(30)])) == 2


def test_a_conflict_reports_the_current_item_without_a_second_read(table) -> None:
    store = table[0]
    ns = f"c{uuid.uuid4().hex[:8]}"
    stale = store.put(f"{ns}/k", "v1")
    current = store.put(f"{ns}/k", "v2")
    raised: list[Conflict] = []

    def conflicting() -> None:
        with pytest.raises(Conflict) as info:
            store.put(f"{ns}/k", "v3", if_match=stale.etag)
        raised.append(info.value)

    assert calls_of(table, conflicting) == 1
    assert raised[0].current_reported and raised[0].current.etag == current.etag  # type: ignore[union-attr]

    def transaction_conflict() -> None:
        with pytest.raises(Conflict) as info:
            store.transact([Put(f"{ns}/other", 1), Put(f"{ns}/k", "v3", if_match=stale.etag)])
        raised.append(info.value)

    assert calls_of(table, transaction_conflict) == 1
    assert raised[1].key == f"{ns}/k" and raised[1].current.value == "v2"  # type: ignore[union-attr]


def test_restarting_an_expired_counter_is_the_one_two_call_case(table) -> None:
    store = table[0]
    ns = f"x{uuid.uuid4().hex[:8]}"
    item = store.put(f"{ns}/n", 5, ttl=0.5)
    time.sleep(max(0.0, item.expires_at - time.time()) + 0.05)  # moto never deletes it
    assert calls_of(table, lambda: store.increment(f"{ns}/n")) == 2
    fresh = store.get(f"{ns}/n")
    assert fresh is not None and fresh.value == 1 and fresh.expires_at is None
    assert TTL_ATTRIBUTE not in raw_item(table, f"{ns}/n")


def test_a_resent_write_is_applied_once(table) -> None:
    """botocore resends a request whose response was lost; the fresh etag makes that harmless."""
    store = table[0]
    backend = store.backend
    ns = assert_a_resent_write_is_applied_once(store)
    now = time.time()
    fresh = store._prepare_put(f"{ns}/q", "q", None, True, None)
    backend.put(fresh, now)
    backend.put(fresh, now)  # the same for if_absent


def test_a_refused_batch_chunk_fails_only_its_own_keys(table) -> None:
    """DynamoDB refuses a BatchWriteItem with an item over 400 KB; the next chunk still goes."""
    from statekit.store.backend import NO_CONDITION, PreparedPut

    store = table[0]
    ns = f"b{uuid.uuid4().hex[:8]}"
    first = [store._prepare_put(f"{ns}/a{i:02d}", i, None, False, None) for i in range(24)]
    # Past the service's item limit: only reachable below the Store, which refuses it first.
    huge = PreparedPut(
        statekit.Item(f"{ns}/huge", "", "e"), '"' + "x" * 410_000 + '"', NO_CONDITION
    )
    second = [store._prepare_put(f"{ns}/b{i:02d}", i, None, False, None) for i in range(10)]
    failed = store.backend.put_many([*first, huge, *second], time.time())
    assert set(failed) == {op.item.key for op in [*first, huge]}  # the refused chunk
    assert all(not isinstance(e, statekit.BackendUnavailable) for e in failed.values())
    assert store.get(f"{ns}/huge") is None
    # (DynamoDB validates the whole request and writes none of a refused chunk; moto
    # writes the items before the too-large one, so that part is not asserted here.)
    assert [store.get(op.item.key).value for op in second] == list(range(10))


def test_service_errors_name_the_key(table) -> None:
    """Issue 13: an SDK error (there a moto 500) surfaced without the key it was about."""
    store = table[0]
    raw, name = table[1]
    key = f"e{uuid.uuid4().hex[:8]}/odd"
    # An item statekit did not write: its "n" is a string, so ADD fails on the service.
    raw.put_item(
        TableName=name,
        Item={
            "pk": {"S": key.split("/", maxsplit=1)[0]},
            "sk": {"S": key},
            "n": {"S": "x"},
            "etag": {"S": "e"},
        },
    )
    with pytest.raises(statekit.StatekitError, match=key):
        store.increment(key)
    missing = statekit.open_store(f"dynamodb://no-such-{uuid.uuid4().hex[:6]}?region=us-east-1")
    try:
        with pytest.raises(statekit.StatekitError, match="'p/k1'"):
            missing.get("p/k1")
        with pytest.raises(statekit.StatekitError, match="'p/k1'"):
            missing.put("p/k1", 1)
    finally:
        missing.close()


def test_increment_by_zero_of_an_existing_counter(table) -> None:
    """Issue 13: UPDATED_NEW leaves out an attribute ADD 0 did not change (KeyError 'n')."""
    store = table[0]
    key = f"z{uuid.uuid4().hex[:8]}/n"
    store.put(key, 41)
    assert store.increment(key, 0) == 41
    assert store.increment(key, 1) == 42
