"""Cosmos DB ids for statekit keys: reversible, legal, within 255 characters."""

from __future__ import annotations

import pytest

from statekit.store.backends.cosmos.ids import MAX_ID_CHARS, id_to_key, key_to_id
from statekit.store.rules import MAX_KEY_BYTES

KEYS = [
    "plain",
    "cart-42/line-1",
    "a/b\\c?d#e~f",
    "~z-looks-compact",
    "~~//",
    "sp ace/%20+plus",
    "日本語/🙂",
    "x" + "/" * (MAX_KEY_BYTES - 1),  # nearly all separators: the compact form
    "~" * MAX_KEY_BYTES,
    "é" * (MAX_KEY_BYTES // 2),
    "🙂" * (MAX_KEY_BYTES // 4),
]


@pytest.mark.parametrize("key", KEYS, ids=lambda k: repr(k)[:16])
def test_ids_are_legal_and_reversible(key: str) -> None:
    item_id = key_to_id(key)
    assert not set(item_id) & set("/\\?#")
    assert len(item_id) <= MAX_ID_CHARS
    assert id_to_key(item_id) == key


def test_readable_ids_stay_readable() -> None:
    assert key_to_id("cart-42/line-1") == "cart-42~sline-1"


def test_distinct_keys_get_distinct_ids() -> None:
    ids = {key_to_id(key) for key in KEYS}
    assert len(ids) == len(set(KEYS))
