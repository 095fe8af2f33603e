"""Regression tests of issue 13 on every store backend: one answer for the same input."""

from __future__ import annotations

from typing import Any

import pytest

import statekit


def counter_bound(store: statekit.Store) -> int | None:
    return store.limits.max_counter


@pytest.mark.parametrize("start", [2**63 - 1, -(2**63), 2**53 - 1, 10**38 - 1])
def test_increment_past_the_range_is_exact_or_refused_and_changes_nothing(
    store: statekit.Store, ns: str, start: int
) -> None:
    key = f"{ns}/n"
    store.put(key, start)
    by = 1 if start > 0 else -1
    bound = counter_bound(store)
    refused: statekit.InvalidValue | None = None
    try:
        result = store.increment(key, by)
    except statekit.InvalidValue as error:
        refused = error
    stored = store.get(key).value  # type: ignore[union-attr]
    if refused is None:
        assert result == stored == start + by  # exact (DynamoDB: 10**38 is one digit)
        assert type(stored) is int
    else:
        assert key in str(refused)
        assert bound is not None and abs(start + by) > bound  # refused only beyond the range
        assert stored == start  # and nothing changed


@pytest.mark.parametrize("by", [2**63, -(2**63) - 1, 2**53, 10**38])
def test_increment_of_a_missing_key_by_a_big_number(
    store: statekit.Store, ns: str, by: int
) -> None:
    key = f"{ns}/new"
    bound = counter_bound(store)
    if bound is not None and abs(by) > bound:
        with pytest.raises(statekit.InvalidValue, match=key):
            store.increment(key, by)
        assert store.get(key) is None
    else:
        assert store.increment(key, by) == by
        assert store.get(key).value == by  # type: ignore[union-attr]


def test_increment_by_zero_returns_the_counter(store: statekit.Store, ns: str) -> None:
    key = f"{ns}/n"
    assert store.increment(key, 5) == 5
    assert store.increment(key, 0) == 5
    store.put(key, 7)
    assert store.increment(key, 0) == 7


def test_an_exact_counter_keeps_adding_exactly(store: statekit.Store, ns: str) -> None:
    key = f"{ns}/n"
    bound = counter_bound(store)
    start = (bound - 10) if bound is not None else 2**80
    store.put(key, start)
    assert store.increment(key, 3) == start + 3
    assert store.increment(key, -6) == start - 3
    assert store.get(key).value == start - 3  # type: ignore[union-attr]


BAD_UNICODE_KEYS = ["\ud83d\ude42", "\ud83d", "x\udc00", "\x85", "a\x9fb", "\x80"]


@pytest.mark.parametrize("suffix", BAD_UNICODE_KEYS, ids=repr)
def test_surrogates_and_c1_controls_are_refused_in_keys(
    store: statekit.Store, ns: str, suffix: str
) -> None:
    key = f"{ns}/{suffix}"
    for call in (
        lambda: store.put(key, 1),
        lambda: store.get(key),
        lambda: store.increment(key),
        lambda: store.delete(key),
        lambda: store.list(f"{ns}/{suffix}"),
    ):
        with pytest.raises(statekit.InvalidKey):
            call()
    long_key = f"{ns}/{'x' * 60}{suffix}"  # long enough for the byte-count path
    with pytest.raises(statekit.InvalidKey):
        store.put(long_key, 1)
    assert store.list(f"{ns}/").items == []


def test_a_surrogate_pair_is_not_the_emoji_it_encodes(store: statekit.Store, ns: str) -> None:
    store.put(f"{ns}/🙂", "emoji")
    with pytest.raises(statekit.InvalidKey):
        store.put(f"{ns}/\ud83d\ude42", "pair")
    assert [item.key for item in store.list(f"{ns}/").items] == [f"{ns}/🙂"]
    assert store.get(f"{ns}/🙂").value == "emoji"  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["\ud800", ["ok", {"k": "\udfff"}], {"\ud83d": 1}], ids=repr)
def test_surrogates_are_refused_in_values(store: statekit.Store, ns: str, value: Any) -> None:
    with pytest.raises(statekit.InvalidValue, match=f"{ns}/v"):
        store.put(f"{ns}/v", value)
    assert store.get(f"{ns}/v") is None


def deep(levels: int) -> Any:
    value: Any = "leaf"
    for level in range(levels):
        value = [value] if level % 2 else {"d": value}
    return value


def test_nesting_beyond_the_limit_is_refused_and_at_it_round_trips(
    store: statekit.Store, ns: str
) -> None:
    from statekit.store.rules import MAX_VALUE_DEPTH

    for levels in (MAX_VALUE_DEPTH + 1, 5000):
        with pytest.raises(statekit.InvalidValue, match="levels deep"):
            store.put(f"{ns}/deep", deep(levels))
    assert store.get(f"{ns}/deep") is None
    store.put(f"{ns}/deep", deep(MAX_VALUE_DEPTH))
    assert store.get(f"{ns}/deep").value == deep(MAX_VALUE_DEPTH)  # type: ignore[union-attr]


@pytest.mark.parametrize("suffix", ["space ", "two  ", "~w", "~w ", " lead", "tab\u3000"], ids=repr)
def test_keys_ending_in_spaces_work_everywhere(store: statekit.Store, ns: str, suffix: str) -> None:
    key = f"{ns}/{suffix}"
    item = store.put(key, suffix)
    assert store.get(key).value == suffix  # type: ignore[union-attr]
    assert store.increment(f"{key}n") == 1
    assert key in [i.key for i in store.list(f"{ns}/").items]
    assert store.delete(key, if_match=item.etag)
    assert store.get(key) is None
