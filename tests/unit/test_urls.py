"""Malformed or unknown connection URLs get one clear error naming the URL and its source."""

from __future__ import annotations

import pytest

import statekit


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("", "non-empty"),
        ("sqlite", "missing '://'"),
        ("postgres://db/x", "unknown scheme 'postgres'"),
        ("sqlite://somehost/x.db", "no host"),
        ("sqlite:///tmp/x.db?journal=off", "unknown query parameter 'journal'"),
        ("redis://127.0.0.1:notaport/0", "malformed"),
    ],
)
def test_bad_store_urls_are_refused(url: str, rule: str) -> None:
    with pytest.raises(statekit.InvalidURL, match=rule):
        statekit.open_store(url)


def test_the_environment_variable_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATEKIT_STORE_URL", "nosuch://x")
    with pytest.raises(statekit.InvalidURL, match="STATEKIT_STORE_URL"):
        statekit.open_store()


def test_default_is_the_embedded_sqlite_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATEKIT_HOME", str(tmp_path))
    store = statekit.open_store()
    store.put("demo/k", "v")
    assert store.backend.name == "sqlite"
    assert (tmp_path / "store.db").exists()
    store.close()


def test_open_store_reuses_one_client_per_url(tmp_path) -> None:
    url = f"sqlite://{tmp_path / 'reuse.db'}"
    assert statekit.open_store(url) is statekit.open_store(url)
