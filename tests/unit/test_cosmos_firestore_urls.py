"""Cosmos DB and Firestore store URLs: mistakes are refused with a message that says what."""

from __future__ import annotations

import pytest

import statekit


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("cosmos://acct.documents.azure.com/onlydb", "ACCOUNT_HOST/DATABASE/CONTAINER"),
        ("cosmos://acct.documents.azure.com/db/c/extra", "ACCOUNT_HOST/DATABASE/CONTAINER"),
        ("cosmos:///db/c", "ACCOUNT_HOST/DATABASE/CONTAINER"),
        ("cosmos://acct.documents.azure.com/db/c?key=secret", "unknown query parameter 'key'"),
        ("cosmos://acct/db/c?endpoint=ftp://127.0.0.1:1/", "endpoint must be an http(s) URL"),
        ("cosmos://acct/db/c?endpoint=http://u:p@127.0.0.1:1/", "must not carry credentials"),
        ("firestore://proj/(default)", "PROJECT/DATABASE/COLLECTION"),
        ("firestore:///(default)/items", "PROJECT/DATABASE/COLLECTION"),
        ("firestore://proj/(default)/items?x=1", "unknown query parameter 'x'"),
    ],
)
def test_bad_urls_are_refused(url: str, message: str) -> None:
    pytest.importorskip("azure.cosmos" if url.startswith("cosmos") else "google.cloud.firestore")
    with pytest.raises(statekit.InvalidURL, match=message.replace("(", r"\(").replace(")", r"\)")):
        statekit.open_store(url)
