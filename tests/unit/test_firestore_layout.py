"""Firestore document ids and etags: legal ids, etags that parse back exactly."""

from __future__ import annotations

import pytest

pytest.importorskip("google.cloud.firestore")

from statekit.store.backends.firestore.documents import Etag, doc_id


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("cart-42/line-1", "cart-42~sline-1"),
        ("a~b/c", "a~tb~sc"),
        (".", "~p."),
        ("..", "~p.."),
        ("__reserved__", "~p__reserved__"),
        ("__half", "__half"),
    ],
)
def test_document_ids_are_legal(key: str, expected: str) -> None:
    assert doc_id(key) == expected
    assert "/" not in doc_id(key)


def test_distinct_keys_get_distinct_ids() -> None:
    keys = ["a/b", "a~sb", "a~b", "~p.", ".", "~p..", ".."]
    assert len({doc_id(k) for k in keys}) == len(keys)


@pytest.mark.parametrize("expires_at", [None, 1795710286.8899996])
def test_etags_round_trip(expires_at: float | None) -> None:
    etag = Etag(1795710286, 123456000, "AbC-_09xyz", expires_at)
    assert Etag.parse(etag.text()) == etag


@pytest.mark.parametrize("text", ["", "no-such-etag", "1.2", "x.y.z", "1.2.t~notafloat"])
def test_foreign_etags_do_not_parse(text: str) -> None:
    assert Etag.parse(text) is None
