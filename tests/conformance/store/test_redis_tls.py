"""``rediss://`` against a real TLS redis-server: verified certificate, host name checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("redis")

import statekit
from tests.standins.base import StandInUnavailable
from tests.standins.redis_tls import TLSRedis, make_certificates


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSRedis]:
    folder = tmp_path_factory.mktemp("redis-tls")
    server = TLSRedis(folder, make_certificates(folder))
    try:
        server.start()
    except StandInUnavailable as exc:
        pytest.skip(f"this redis-server has no TLS: {exc}")
    yield server
    server.stop()


def test_rediss_verifies_the_server_and_works(
    tls_server: TLSRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.certificates["ca.crt"]))
    store = statekit.open_store(f"rediss://127.0.0.1:{tls_server.port}/0?prefix=tls:")
    store.put("tls/a", {"over": "tls"})
    assert store.get("tls/a").value == {"over": "tls"}  # type: ignore[union-attr]
    store.close()


def test_rediss_refuses_a_server_it_cannot_verify(
    tls_server: TLSRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)  # the system trust store only
    store = statekit.open_store(f"rediss://127.0.0.1:{tls_server.port}/0?prefix=untrusted:")
    with pytest.raises(statekit.StatekitError, match="certificate verify failed") as raised:
        store.get("tls/a")
    assert not isinstance(raised.value, statekit.BackendUnavailable)  # a setting to fix
    store.close()


def test_rediss_trusts_the_ca_named_by_ca_env(
    tls_server: TLSRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memorystore's way: the instance's own CA, handed over in an environment variable."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setenv("CACHE_CA", tls_server.certificates["ca.crt"].read_text())
    url = f"rediss://127.0.0.1:{tls_server.port}/0?prefix=ca-env:&ca_env=CACHE_CA"
    store = statekit.open_store(url)
    store.put("tls/b", 1)
    assert store.get("tls/b").value == 1  # type: ignore[union-attr]
    store.close()
    cache = statekit.open_cache(url.replace("prefix=ca-env:&", ""))
    cache.set("tls/c", "cached")
    assert cache.get("tls/c") == "cached"
    cache.close()


def test_ca_env_must_name_a_set_variable_and_needs_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_CA", raising=False)
    with pytest.raises(statekit.InvalidURL, match="NO_SUCH_CA"):
        statekit.open_store("rediss://127.0.0.1:6380/0?ca_env=NO_SUCH_CA")
    with pytest.raises(statekit.InvalidURL, match="needs TLS"):
        statekit.open_store("redis://127.0.0.1:6380/0?ca_env=NO_SUCH_CA")
