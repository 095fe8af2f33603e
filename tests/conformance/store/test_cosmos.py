"""Cosmos-specific checks on the stand-in that the shared suite cannot make there.

The shared listing tests seed their items with ``put_many`` (one transactional
batch per partition), which cosmosdb-server breaks; these seed with single puts
so the listing query itself is still exercised on every run. They also check
that keys with the characters Cosmos DB forbids in ids round-trip.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest

pytest.importorskip("azure.cosmos")

import statekit
from statekit.store.rules import MAX_KEY_BYTES
from tests.standins.base import StandInPool


@pytest.fixture(scope="module")
def store(standins: StandInPool) -> Iterator[statekit.Store]:
    server = standins.get("cosmos")
    os.environ.update(server.client_env())
    server.create_container("statekit", "specific")  # type: ignore[attr-defined]
    opened = statekit.open_store(server.store_url("statekit", "specific"))  # type: ignore[attr-defined]
    yield opened
    opened.close()


@pytest.fixture
def ns() -> str:
    return f"cs{uuid.uuid4().hex[:12]}"


def test_listing_pages_by_key_within_the_partition(store: statekit.Store, ns: str) -> None:
    wanted = [f"{ns}/item/{i:02d}" for i in range(11)]
    for i, key in enumerate(reversed(wanted)):
        store.put(key, i)
    store.put(f"{ns}/other/1", "not under the prefix")
    store.put(f"{ns}-neighbour/item/1", "another partition")
    store.put(f"{ns}/item/zz-expiring", "gone soon", ttl=0.5)
    time.sleep(0.6)
    seen: list[str] = []
    cursor = None
    while True:
        page = store.list(f"{ns}/item/", limit=4, cursor=cursor)
        assert len(page.items) <= 4
        seen += page.keys
        if page.cursor is None:
            break
        cursor = page.cursor
    assert seen == wanted


@pytest.mark.parametrize(
    "suffix",
    ["a/b", "back\\slash", "what?", "hash#tag", "tilde~s", "~z", "sp ace %20", "日本🙂"],
)
def test_keys_with_characters_cosmos_forbids_in_ids(
    store: statekit.Store, ns: str, suffix: str
) -> None:
    key = f"{ns}/{suffix}"
    store.put(key, suffix)
    assert store.get(key).value == suffix  # type: ignore[union-attr]
    assert store.list(f"{ns}/").keys == [key]
    assert store.delete(key) is True


def test_longest_key_uses_the_compact_id(store: statekit.Store, ns: str) -> None:
    key = f"{ns}/" + "/" * (MAX_KEY_BYTES - len(ns) - 1)
    store.put(key, 1)
    assert store.increment(key) == 2
    assert store.get_many([key])[key].value == 2  # type: ignore[union-attr]
