"""``rediss://`` against a real TLS redis-server: verified certificate, host name checked."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("redis")

import statekit
from tests.standins import redis as redis_module
from tests.standins.base import StandInUnavailable


def make_certificates(folder: Path) -> dict[str, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1, made with the openssl CLI."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make test certificates")
    files = {name: folder / name for name in ("ca.key", "ca.crt", "server.key", "server.crt")}
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    ca_key, ca_crt = files["ca.key"], files["ca.crt"]
    csr = folder / "server.csr"
    steps: list[list[object]] = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_crt],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", files["server.key"], "-out", csr],
        ["x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial"],
    ]
    steps[0] += ["-days", "1", "-subj", "/CN=statekit test CA"]
    steps[1] += ["-subj", "/CN=127.0.0.1"]
    steps[2] += ["-out", files["server.crt"], "-days", "1", "-extfile", folder / "san.ext"]
    for step in steps:
        subprocess.run([openssl, *map(str, step)], check=True, capture_output=True, timeout=60)
    return files


class TLSRedis(redis_module.RedisServer):
    name = "redis-tls"

    def __init__(self, workdir: Path, certificates: dict[str, Path]) -> None:
        super().__init__(workdir)
        self.certificates = certificates

    def command(self) -> list[str]:
        plain = super().command()
        at = plain.index("--port")
        return [
            *plain[:at],
            "--port",
            "0",
            "--tls-port",
            str(self.port),
            "--tls-cert-file",
            str(self.certificates["server.crt"]),
            "--tls-key-file",
            str(self.certificates["server.key"]),
            "--tls-ca-cert-file",
            str(self.certificates["ca.crt"]),
            "--tls-auth-clients",
            "no",
            *plain[at + 2 :],
        ]


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
