"""One meaning of the cache on every backend: values, TTL, batches, bad input."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest

from statekit import InvalidKey, InvalidOption, InvalidValue, ValueTooLarge
from statekit.cache import Cache
from statekit.store.rules import MAX_KEY_BYTES, MAX_VALUE_BYTES

VALUES: list[Any] = [
    {"id": 1, "tags": ["a", "b"], "nested": {"ok": True}},
    [1, 2.5, "three", None, False],
    "text with ünïcode ✓",
    0,
    -17,
    3.25,
    True,
    "",
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_set_then_get_returns_the_value(cache: Cache, ns: str, value: Any) -> None:
    cache.set(f"{ns}/k", value)
    assert cache.get(f"{ns}/k") == value


def test_missing_key_returns_default(cache: Cache, ns: str) -> None:
    assert cache.get(f"{ns}/missing") is None
    assert cache.get(f"{ns}/missing", "fallback") == "fallback"


def test_cached_null_is_a_hit_not_a_miss(cache: Cache, ns: str) -> None:
    cache.set(f"{ns}/null", None)
    assert cache.get(f"{ns}/null", "fallback") is None


def test_value_expires_after_its_ttl(cache: Cache, ns: str) -> None:
    cache.set(f"{ns}/short", "soon gone", ttl=0.3)
    assert cache.get(f"{ns}/short") == "soon gone"
    time.sleep(0.45)
    assert cache.get(f"{ns}/short", "gone") == "gone"


def test_writing_without_ttl_removes_an_earlier_ttl(cache: Cache, ns: str) -> None:
    cache.set(f"{ns}/k", 1, ttl=0.2)
    cache.set(f"{ns}/k", 2)
    time.sleep(0.3)
    assert cache.get(f"{ns}/k") == 2


def test_fractional_ttl_below_a_millisecond_still_caches_briefly(cache: Cache, ns: str) -> None:
    cache.set(f"{ns}/k", 1, ttl=0.0001)  # rounded up to 1 ms, never "no expiry"
    time.sleep(0.05)
    assert cache.get(f"{ns}/k") is None


def test_delete_reports_whether_the_key_was_there(cache: Cache, ns: str) -> None:
    cache.set(f"{ns}/k", 1)
    assert cache.delete(f"{ns}/k") is True
    assert cache.delete(f"{ns}/k") is False
    assert cache.get(f"{ns}/k") is None


def test_get_many_returns_hits_only(cache: Cache, ns: str) -> None:
    cache.set(f"{ns}/a", 1)
    cache.set(f"{ns}/b", {"x": None})
    cache.set(f"{ns}/n", None)
    found = cache.get_many([f"{ns}/a", f"{ns}/missing", f"{ns}/b", f"{ns}/n", f"{ns}/a"])
    assert found == {f"{ns}/a": 1, f"{ns}/b": {"x": None}, f"{ns}/n": None}
    assert cache.get_many([]) == {}


def test_set_many_with_ttl(cache: Cache, ns: str) -> None:
    cache.set_many({f"{ns}/a": 1, f"{ns}/b": [2]}, ttl=0.3)
    assert cache.get_many([f"{ns}/a", f"{ns}/b"]) == {f"{ns}/a": 1, f"{ns}/b": [2]}
    time.sleep(0.45)
    assert cache.get_many([f"{ns}/a", f"{ns}/b"]) == {}


def test_returned_values_are_copies(cache: Cache, ns: str) -> None:
    value = {"list": [1]}
    cache.set(f"{ns}/k", value)
    value["list"].append(2)
    got = cache.get(f"{ns}/k")
    got["list"].append(3)
    assert cache.get(f"{ns}/k") == {"list": [1]}


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        (42, "must be strings"),
        ("", "must not be empty"),
        ("bad\nkey", "control characters"),
        ("x" * (MAX_KEY_BYTES + 1), "at most"),
        ("/leading", "partition"),
    ],
)
def test_invalid_keys_are_refused_by_every_call(cache: Cache, key: Any, rule: str) -> None:
    for call in (
        lambda: cache.get(key),
        lambda: cache.set(key, 1),
        lambda: cache.delete(key),
        lambda: cache.get_many([key]),
        lambda: cache.set_many([(key, 1)]),
    ):
        with pytest.raises(InvalidKey, match=rule):
            call()


@pytest.mark.parametrize("value", [object(), {1, 2}, math.nan, {"k": math.inf}, b"bytes"])
def test_non_json_values_are_refused(cache: Cache, ns: str, value: Any) -> None:
    with pytest.raises(InvalidValue, match="JSON-compatible"):
        cache.set(f"{ns}/k", value)


def test_set_many_checks_everything_before_writing(cache: Cache, ns: str) -> None:
    with pytest.raises(InvalidValue):
        cache.set_many([(f"{ns}/ok", 1), (f"{ns}/bad", object())])
    assert cache.get(f"{ns}/ok") is None


def test_oversized_values_are_refused(cache: Cache, ns: str) -> None:
    with pytest.raises(ValueTooLarge, match=str(MAX_VALUE_BYTES)):
        cache.set(f"{ns}/big", "x" * MAX_VALUE_BYTES)


@pytest.mark.parametrize("ttl", [0, -1, math.nan, math.inf, "5", True, 10**10])
def test_bad_ttl_is_refused(cache: Cache, ns: str, ttl: Any) -> None:
    with pytest.raises(InvalidOption, match="ttl"):
        cache.set(f"{ns}/k", 1, ttl=ttl)


def test_get_many_refuses_one_string(cache: Cache, ns: str) -> None:
    with pytest.raises(InvalidOption, match="not one string"):
        cache.get_many(f"{ns}/k")
