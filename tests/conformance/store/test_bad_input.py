"""Bad input gets a clear error naming the key and the rule, and nothing is written."""

from __future__ import annotations

import math
from typing import Any

import pytest

import statekit
from statekit.store.rules import MAX_KEY_BYTES, MAX_VALUE_BYTES

BAD_KEYS: list[tuple[Any, str]] = [
    ("", "must not be empty"),
    ("k" * (MAX_KEY_BYTES + 1), "at most"),
    ("é" * (MAX_KEY_BYTES // 2 + 1), "at most"),  # short in characters, long in bytes
    (42, "must be strings"),
    (None, "must be strings"),
    ("tab\there", "control characters"),
    ("/no-partition", "partition"),
]


@pytest.mark.parametrize(("key", "rule"), BAD_KEYS, ids=lambda v: repr(v)[:20])
def test_bad_keys_are_refused_by_every_call(store: statekit.Store, key: Any, rule: str) -> None:
    for call in (
        lambda: store.put(key, 1),
        lambda: store.get(key),
        lambda: store.delete(key),
        lambda: store.increment(key),
        lambda: store.get_many([key]),
        lambda: store.update(key, lambda v: 1),
    ):
        with pytest.raises(statekit.InvalidKey, match=rule):
            call()


@pytest.mark.parametrize(
    "value", [{1, 2}, object(), math.nan, math.inf, b"bytes", {"nested": [complex(1, 2)]}]
)
def test_values_that_are_not_json_are_refused(store: statekit.Store, ns: str, value: Any) -> None:
    with pytest.raises(statekit.InvalidValue, match=f"{ns}/v"):
        store.put(f"{ns}/v", value)
    assert store.get(f"{ns}/v") is None


def test_values_over_the_portable_limit_are_refused(store: statekit.Store, ns: str) -> None:
    big = "x" * MAX_VALUE_BYTES
    with pytest.raises(statekit.ValueTooLarge, match=str(MAX_VALUE_BYTES)):
        store.put(f"{ns}/big", big)
    with pytest.raises(statekit.ValueTooLarge):
        store.put(f"{ns}/big", "é" * (MAX_VALUE_BYTES // 2))  # bytes, not characters, count
    assert store.get(f"{ns}/big") is None
    store.put(f"{ns}/big", "x" * (MAX_VALUE_BYTES - 2))  # exactly at the limit as JSON


@pytest.mark.parametrize("ttl", [0, -1, math.nan, "10", True, 10**10])
def test_bad_ttl_is_refused(store: statekit.Store, ns: str, ttl: Any) -> None:
    with pytest.raises(statekit.InvalidOption, match="ttl"):
        store.put(f"{ns}/t", 1, ttl=ttl)
    assert store.get(f"{ns}/t") is None


def test_bad_conditions_are_refused(store: statekit.Store, ns: str) -> None:
    with pytest.raises(statekit.InvalidOption):
        store.put(f"{ns}/c", 1, if_match="abc", if_absent=True)
    with pytest.raises(statekit.InvalidOption):
        store.put(f"{ns}/c", 1, if_match=123)  # type: ignore[arg-type]
    assert store.get(f"{ns}/c") is None
