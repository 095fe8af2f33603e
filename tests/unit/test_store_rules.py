"""The portable key and value rules: valid Unicode only, no C0/C1 controls, bounded nesting."""

from __future__ import annotations

from typing import Any

import pytest

from statekit.errors import InvalidKey, InvalidValue
from statekit.store import rules
from statekit.store.backends.cosmos.ids import id_to_key, key_to_id


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("a/\ud83d", "valid Unicode"),  # a lone high surrogate
        ("a/\udc00" + "x" * 60, "valid Unicode"),  # long enough to take the byte-count path
        ("a/\x85next-line", "control"),  # C1
        ("a/\x9f", "control"),
        ("a/\x7f", "control"),
        ("a/\x00", "control"),
    ],
    ids=repr,
)
def test_keys_must_be_valid_unicode_without_controls(key: str, rule: str) -> None:
    with pytest.raises(InvalidKey, match=rule):
        rules.check_key(key)


def test_prefixes_follow_the_key_rules() -> None:
    for prefix in ("a/\ud83d", "a/\x85"):
        with pytest.raises(InvalidKey, match="prefix"):
            rules.check_prefix(prefix)


def test_an_emoji_key_is_fine_and_not_its_surrogate_pair() -> None:
    assert rules.check_key("a/🙂") == "a/🙂"
    with pytest.raises(InvalidKey):
        rules.check_key("a/\ud83d\ude42")


@pytest.mark.parametrize("value", ["\ud800", {"k": ["\udfff"]}, {"\ud800": 1}], ids=repr)
def test_values_must_be_valid_unicode(value: Any) -> None:
    with pytest.raises(InvalidValue, match="valid Unicode"):
        rules.encode_value("a/k", value)


def test_nesting_is_bounded_and_the_bound_itself_is_fine() -> None:
    rules.encode_value("a/k", nested(rules.MAX_VALUE_DEPTH))
    for depth in (rules.MAX_VALUE_DEPTH + 1, 5000):
        with pytest.raises(InvalidValue, match="levels deep"):
            rules.encode_value("a/k", nested(depth))
    deep_object: Any = 1
    for _ in range(rules.MAX_VALUE_DEPTH + 1):
        deep_object = {"x": deep_object}
    with pytest.raises(InvalidValue, match="a/k"):
        rules.encode_value("a/k", deep_object)


def test_brackets_inside_strings_are_not_nesting() -> None:
    rules.encode_value("a/k", "[" * 500)
    rules.encode_value("a/k", ["{" * 500, {"a": "[" * 500}])


@pytest.mark.parametrize("key", ["a/trailing ", "a/  ", "a/ ~w", "a/~w "], ids=repr)
def test_cosmos_ids_never_end_in_a_space(key: str) -> None:
    item_id = key_to_id(key)
    assert not item_id.endswith(" ")
    assert id_to_key(item_id) == key
