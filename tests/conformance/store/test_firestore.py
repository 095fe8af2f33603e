"""Firestore-specific checks on the stand-in, beyond the shared suite.

Listing skips expired documents on the client (Firestore deletes them lazily),
so a page must keep asking past a run of expired ones; keys whose ids need
escaping must round-trip; a text value must refuse an increment unchanged.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest

pytest.importorskip("google.cloud.firestore")

import statekit
from tests.standins.base import StandInPool


@pytest.fixture(scope="module")
def store(standins: StandInPool) -> Iterator[statekit.Store]:
    emulator = standins.get("firestore")
    os.environ.update(emulator.client_env())
    opened = statekit.open_store(emulator.store_url("specific"))  # type: ignore[attr-defined]
    yield opened
    opened.close()


@pytest.fixture
def ns() -> str:
    return f"fs{uuid.uuid4().hex[:12]}"


def test_a_page_fills_past_a_run_of_expired_items(store: statekit.Store, ns: str) -> None:
    store.put(f"{ns}/a", "first")
    store.put_many({f"{ns}/b{i:02d}": i for i in range(12)}, ttl=0.5)
    store.put_many({f"{ns}/c{i}": i for i in range(3)})
    time.sleep(0.6)
    page = store.list(f"{ns}/", limit=3)
    assert page.keys == [f"{ns}/a", f"{ns}/c0", f"{ns}/c1"]
    assert page.cursor is not None
    rest = store.list(f"{ns}/", limit=3, cursor=page.cursor)
    assert rest.keys == [f"{ns}/c2"] and rest.cursor is None


@pytest.mark.parametrize("suffix", ["a/b", "tilde~s", ".", "..", "__x__", "sp ace", "日本🙂"])
def test_keys_whose_ids_need_escaping(store: statekit.Store, ns: str, suffix: str) -> None:
    key = f"{ns}/{suffix}"
    store.put(key, suffix)
    assert store.get(key).value == suffix  # type: ignore[union-attr]
    assert store.list(f"{ns}/").keys == [key]
    assert store.delete(key) is True
    assert store.get(key) is None


def test_increment_refuses_text_and_integers_switch_cleanly(store: statekit.Store, ns: str) -> None:
    store.put(f"{ns}/x", "text")
    with pytest.raises(statekit.InvalidValue):
        store.increment(f"{ns}/x")
    assert store.get(f"{ns}/x").value == "text"  # type: ignore[union-attr]
    store.put(f"{ns}/x", 41)  # a text value then an integer: no field of the first is left
    assert store.increment(f"{ns}/x") == 42
    store.put(f"{ns}/x", [1])
    assert store.get(f"{ns}/x").value == [1]  # type: ignore[union-attr]
