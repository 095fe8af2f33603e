"""The store contract, run over every registered backend (modelled on Dapr's state cases)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import statekit
from statekit import Capability, Check, Conflict, Delete, Put, Unsupported

VALUE_SHAPES: list[Any] = [
    "",
    "plain",
    "unicode ✓ 日本語 🙂",
    0,
    -7,
    2**53,
    1.5,
    True,
    False,
    None,
    [],
    {},
    [1, "two", None, [3.0]],
    {"nested": {"deep": [{"a": 1}, {"b": [True, None]}]}, "empty": {}},
    "x" * 100_000,
]


def wait_past(expires_at: float | None) -> None:
    assert expires_at is not None
    time.sleep(max(0.0, expires_at - time.time()) + 0.05)


@pytest.mark.parametrize("value", VALUE_SHAPES, ids=lambda v: type(v).__name__ + str(len(repr(v))))
def test_put_then_get_returns_the_same_value(store: statekit.Store, ns: str, value: Any) -> None:
    written = store.put(f"{ns}/shape", value)
    read = store.get(f"{ns}/shape")
    assert read is not None
    assert read.value == value
    assert type(read.value) is type(value)
    assert read.etag == written.etag
    assert read.key == f"{ns}/shape"
    assert read.expires_at is None


def test_get_of_a_missing_key_is_none(store: statekit.Store, ns: str) -> None:
    assert store.get(f"{ns}/never-written") is None


def test_delete_removes_and_reports_whether_it_existed(store: statekit.Store, ns: str) -> None:
    store.put(f"{ns}/d", 1)
    assert store.delete(f"{ns}/d") is True
    assert store.get(f"{ns}/d") is None
    assert store.delete(f"{ns}/d") is False
    assert store.delete(f"{ns}/never") is False


def test_get_many_includes_missing_keys_as_none(store: statekit.Store, ns: str) -> None:
    store.put(f"{ns}/a", "A")
    store.put(f"{ns}/c", {"c": 3})
    found = store.get_many([f"{ns}/a", f"{ns}/b", f"{ns}/c", f"{ns}/a"])
    assert list(found) == [f"{ns}/a", f"{ns}/b", f"{ns}/c"]
    assert (a := found[f"{ns}/a"]) is not None and a.value == "A"
    assert found[f"{ns}/b"] is None
    assert (c := found[f"{ns}/c"]) is not None and c.value == {"c": 3}


def test_get_many_over_a_batch_chunk(store: statekit.Store, ns: str) -> None:
    keys = [f"{ns}/k{i:03d}" for i in range(130)]  # over DynamoDB's 100 per BatchGetItem
    result = store.put_many({key: i for i, key in enumerate(keys)})
    assert result.ok and sorted(result.succeeded) == keys
    found = store.get_many(keys)
    assert [found[key].value for key in keys] == list(range(130))  # type: ignore[union-attr]


def test_etag_is_present_and_changes_on_every_write(store: statekit.Store, ns: str) -> None:
    key = f"{ns}/e"
    etags = [store.put(key, 1).etag, store.put(key, 1).etag]
    etags.append(store.update(key, lambda v: v + 1).etag)
    store.increment(key)
    current = store.get(key)
    assert current is not None
    etags.append(current.etag)
    assert all(isinstance(e, str) and e for e in etags)
    assert len(set(etags)) == len(etags)


def test_put_with_the_current_etag_succeeds(store: statekit.Store, ns: str) -> None:
    first = store.put(f"{ns}/m", "one")
    second = store.put(f"{ns}/m", "two", if_match=first.etag)
    assert second.etag != first.etag
    assert store.get(f"{ns}/m").value == "two"  # type: ignore[union-attr]


def test_put_with_a_stale_etag_conflicts_and_changes_nothing(
    store: statekit.Store, ns: str
) -> None:
    first = store.put(f"{ns}/s", "one")
    second = store.put(f"{ns}/s", "two")
    with pytest.raises(Conflict) as raised:
        store.put(f"{ns}/s", "three", if_match=first.etag)
    assert raised.value.key == f"{ns}/s"
    current = store.get(f"{ns}/s")
    assert current is not None and current.value == "two" and current.etag == second.etag
    if raised.value.current_reported:
        assert raised.value.current is not None and raised.value.current.etag == second.etag


def test_delete_with_a_stale_etag_conflicts_and_changes_nothing(
    store: statekit.Store, ns: str
) -> None:
    first = store.put(f"{ns}/s", "one")
    store.put(f"{ns}/s", "two")
    with pytest.raises(Conflict):
        store.delete(f"{ns}/s", if_match=first.etag)
    assert store.get(f"{ns}/s").value == "two"  # type: ignore[union-attr]
    current = store.get(f"{ns}/s")
    assert current is not None
    assert store.delete(f"{ns}/s", if_match=current.etag) is True
    assert store.get(f"{ns}/s") is None


def test_if_match_on_a_missing_key_conflicts(store: statekit.Store, ns: str) -> None:
    with pytest.raises(Conflict):
        store.put(f"{ns}/missing", 1, if_match="no-such-etag")
    with pytest.raises(Conflict):
        store.delete(f"{ns}/missing", if_match="no-such-etag")
    assert store.get(f"{ns}/missing") is None


def test_if_absent_first_write_wins(store: statekit.Store, ns: str) -> None:
    store.put(f"{ns}/f", "first", if_absent=True)
    with pytest.raises(Conflict) as raised:
        store.put(f"{ns}/f", "second", if_absent=True)
    assert store.get(f"{ns}/f").value == "first"  # type: ignore[union-attr]
    if raised.value.current_reported:
        assert raised.value.current is not None and raised.value.current.value == "first"


def test_if_absent_under_contention_has_exactly_one_winner(store: statekit.Store, ns: str) -> None:
    winners: list[int] = []
    conflicts: list[int] = []
    barrier = threading.Barrier(8)

    def contender(n: int) -> None:
        barrier.wait()
        try:
            store.put(f"{ns}/race", n, if_absent=True)
            winners.append(n)
        except Conflict:
            conflicts.append(n)

    threads = [threading.Thread(target=contender, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1 and len(conflicts) == 7
    assert store.get(f"{ns}/race").value == winners[0]  # type: ignore[union-attr]


def test_ttl_item_is_never_read_after_expiry(store: statekit.Store, ns: str) -> None:
    if Capability.TTL not in store.capabilities:
        with pytest.raises(Unsupported):
            store.put(f"{ns}/t", 1, ttl=60)
        return
    item = store.put(f"{ns}/t", "short", ttl=1)
    assert item.expires_at is not None and item.expires_at > time.time()
    store.put(f"{ns}/keep", "long")
    assert store.get(f"{ns}/t").value == "short"  # type: ignore[union-attr]
    wait_past(item.expires_at)
    assert store.get(f"{ns}/t") is None
    assert store.get_many([f"{ns}/t"]) == {f"{ns}/t": None}
    assert store.list(f"{ns}/").keys == [f"{ns}/keep"]
    assert store.delete(f"{ns}/t") is False


def test_expired_item_counts_as_absent_for_conditions(store: statekit.Store, ns: str) -> None:
    if Capability.TTL not in store.capabilities:
        pytest.skip("backend declares no TTL (checked by test_ttl_item_is_never_read_after_expiry)")
    old = store.put(f"{ns}/t", "old", ttl=1)
    wait_past(old.expires_at)
    with pytest.raises(Conflict):
        store.put(f"{ns}/t", "stale", if_match=old.etag)
    store.put(f"{ns}/t", "new", if_absent=True)
    fresh = store.get(f"{ns}/t")
    assert fresh is not None and fresh.value == "new" and fresh.expires_at is None


def test_a_later_write_without_ttl_removes_the_ttl(store: statekit.Store, ns: str) -> None:
    if Capability.TTL not in store.capabilities:
        pytest.skip("backend declares no TTL (checked by test_ttl_item_is_never_read_after_expiry)")
    first = store.put(f"{ns}/t", "v1", ttl=1)
    store.put(f"{ns}/t", "v2")
    wait_past(first.expires_at)
    current = store.get(f"{ns}/t")
    assert current is not None and current.value == "v2" and current.expires_at is None


def test_update_is_read_modify_write(store: statekit.Store, ns: str) -> None:
    created = store.update(f"{ns}/u", lambda v: {"n": 1} if v is None else v)
    assert created.value == {"n": 1}
    updated = store.update(f"{ns}/u", lambda v: {"n": v["n"] + 1})
    assert updated.value == {"n": 2}
    assert store.get(f"{ns}/u").value == {"n": 2}  # type: ignore[union-attr]


def test_update_gives_up_with_conflict_after_its_attempts(store: statekit.Store, ns: str) -> None:
    store.put(f"{ns}/u", 0)
    calls = 0

    def meddling_change(value: int) -> int:
        nonlocal calls
        calls += 1
        store.put(f"{ns}/u", value + 100)  # another writer gets in first, every time
        return value + 1

    with pytest.raises(Conflict):
        store.update(f"{ns}/u", meddling_change, attempts=3)
    assert calls == 3


def test_increment_is_atomic_and_starts_from_zero(store: statekit.Store, ns: str) -> None:
    if Capability.INCREMENT not in store.capabilities:
        with pytest.raises(Unsupported):
            store.increment(f"{ns}/n")
        return
    assert store.increment(f"{ns}/n") == 1
    assert store.increment(f"{ns}/n", 41) == 42
    assert store.increment(f"{ns}/n", -2) == 40
    assert store.get(f"{ns}/n").value == 40  # type: ignore[union-attr]
    store.put(f"{ns}/text", "not a number")
    with pytest.raises(statekit.InvalidValue):
        store.increment(f"{ns}/text")
    assert store.get(f"{ns}/text").value == "not a number"  # type: ignore[union-attr]


def test_increment_keeps_the_ttl_and_restarts_after_expiry(store: statekit.Store, ns: str) -> None:
    if Capability.INCREMENT not in store.capabilities or Capability.TTL not in store.capabilities:
        pytest.skip("needs increment and ttl")
    item = store.put(f"{ns}/n", 5, ttl=1)
    assert store.increment(f"{ns}/n") == 6
    kept = store.get(f"{ns}/n")
    assert kept is not None and kept.expires_at == pytest.approx(item.expires_at, abs=1.0)
    wait_past(item.expires_at)
    assert store.increment(f"{ns}/n") == 1


def test_put_many_and_delete_many_report_every_key(store: statekit.Store, ns: str) -> None:
    result = store.put_many([(f"{ns}/a", 1), (f"{ns}/b", 2)])
    assert result.ok and sorted(result.succeeded) == [f"{ns}/a", f"{ns}/b"]
    assert result.items[f"{ns}/a"].etag == store.get(f"{ns}/a").etag  # type: ignore[union-attr]
    deleted = store.delete_many([f"{ns}/a", f"{ns}/b", f"{ns}/missing"])
    assert deleted.ok and sorted(deleted.succeeded) == [f"{ns}/a", f"{ns}/b", f"{ns}/missing"]
    assert store.get_many([f"{ns}/a", f"{ns}/b"]) == {f"{ns}/a": None, f"{ns}/b": None}


def test_put_many_with_one_bad_entry_writes_nothing(store: statekit.Store, ns: str) -> None:
    with pytest.raises(statekit.InvalidValue):
        store.put_many({f"{ns}/good": 1, f"{ns}/bad": {1, 2}})
    with pytest.raises(statekit.InvalidKey):
        store.put_many({f"{ns}/good": 1, "": 2})
    assert store.get(f"{ns}/good") is None


def test_transaction_applies_every_operation(store: statekit.Store, ns: str) -> None:
    if Capability.TRANSACTIONS not in store.capabilities:
        with pytest.raises(Unsupported):
            store.transact([Put(f"{ns}/a", 1)])
        return
    kept = store.put(f"{ns}/kept", "k")
    store.put(f"{ns}/gone", "g")
    results = store.transact(
        [
            Put(f"{ns}/a", {"a": 1}),
            Delete(f"{ns}/gone"),
            Check(f"{ns}/kept", if_match=kept.etag),
            Put(f"{ns}/b", "b", if_absent=True),
        ]
    )
    assert results[0] is not None and results[0].value == {"a": 1}
    assert results[1] is None and results[2] is None
    assert store.get(f"{ns}/a").etag == results[0].etag  # type: ignore[union-attr]
    assert store.get(f"{ns}/gone") is None
    assert store.get(f"{ns}/b").value == "b"  # type: ignore[union-attr]


def test_transaction_is_all_or_nothing(store: statekit.Store, ns: str) -> None:
    if Capability.TRANSACTIONS not in store.capabilities:
        pytest.skip("checked by test_transaction_applies_every_operation")
    stale = store.put(f"{ns}/x", "v1")
    store.put(f"{ns}/x", "v2")
    store.put(f"{ns}/y", "y1")
    with pytest.raises(Conflict) as raised:
        store.transact(
            [
                Put(f"{ns}/new", "must not appear"),
                Delete(f"{ns}/y"),
                Put(f"{ns}/x", "v3", if_match=stale.etag),
            ]
        )
    assert raised.value.key == f"{ns}/x"
    assert store.get(f"{ns}/new") is None
    assert store.get(f"{ns}/y").value == "y1"  # type: ignore[union-attr]
    assert store.get(f"{ns}/x").value == "v2"  # type: ignore[union-attr]


def test_transaction_across_partitions_fails_fast(store: statekit.Store, ns: str) -> None:
    if Capability.TRANSACTIONS not in store.capabilities:
        pytest.skip("checked by test_transaction_applies_every_operation")
    with pytest.raises(statekit.CrossPartitionTransaction) as raised:
        store.transact([Put(f"{ns}/a", 1), Put(f"{ns}-other/b", 2)])
    assert ns in str(raised.value) and f"{ns}-other" in str(raised.value)
    assert store.get(f"{ns}/a") is None and store.get(f"{ns}-other/b") is None


def test_transaction_rejects_a_key_twice(store: statekit.Store, ns: str) -> None:
    if Capability.TRANSACTIONS not in store.capabilities:
        pytest.skip("checked by test_transaction_applies_every_operation")
    with pytest.raises(statekit.InvalidTransaction):
        store.transact([Put(f"{ns}/a", 1), Delete(f"{ns}/a")])
    assert store.get(f"{ns}/a") is None


def test_listing_pages_neither_repeat_nor_skip(store: statekit.Store, ns: str) -> None:
    if Capability.LIST not in store.capabilities:
        with pytest.raises(Unsupported):
            store.list(f"{ns}/")
        return
    wanted = [f"{ns}/item/{i:02d}" for i in range(23)]
    store.put_many({key: i for i, key in enumerate(wanted)})
    store.put(f"{ns}/other/1", "not under the prefix")
    store.put(f"{ns}-neighbour/item/1", "another partition")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = store.list(f"{ns}/item/", limit=5, cursor=cursor)
        seen += page.keys
        pages += 1
        assert len(page.items) <= 5
        if page.cursor is None:
            break
        cursor = page.cursor
    assert seen == wanted
    assert pages == 5
    assert [item.value for item in store.iter_prefix(f"{ns}/item/", page_size=7)] == list(range(23))


def test_listing_sees_a_write_made_between_pages(store: statekit.Store, ns: str) -> None:
    if Capability.LIST not in store.capabilities:
        pytest.skip("checked by test_listing_pages_neither_repeat_nor_skip")
    store.put_many({f"{ns}/k{i}": i for i in (1, 3, 5)})
    first = store.list(f"{ns}/", limit=2)
    store.put(f"{ns}/k4", 4)  # after the cursor: must appear; k0 before it: must not
    store.put(f"{ns}/k0", 0)
    second = store.list(f"{ns}/", limit=10, cursor=first.cursor)
    assert first.keys == [f"{ns}/k1", f"{ns}/k3"]
    assert second.keys == [f"{ns}/k4", f"{ns}/k5"]


def test_listing_needs_a_partition_and_its_own_cursor(store: statekit.Store, ns: str) -> None:
    if Capability.LIST not in store.capabilities:
        pytest.skip("checked by test_listing_pages_neither_repeat_nor_skip")
    with pytest.raises(statekit.InvalidKey):
        store.list("no-partition-separator")
    store.put_many({f"{ns}/a/{i}": i for i in range(3)})
    page = store.list(f"{ns}/a/", limit=1)
    assert page.cursor is not None
    with pytest.raises(statekit.InvalidOption):
        store.list(f"{ns}/b/", cursor=page.cursor)
    with pytest.raises(statekit.InvalidOption):
        store.list(f"{ns}/a/", cursor="garbage")
