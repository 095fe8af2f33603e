"""The Redis cache on redis-server: wire format, auth, TLS, pooling, and a stopped server."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("redis")

import redis

import statekit
from statekit import BackendUnavailable, InvalidURL
from statekit.cache import open_cache
from statekit.cache.backends import redis as cache_redis
from tests.conformance.cache.cases.redis import redis_url
from tests.standins import redis as redis_standin
from tests.standins.base import StandInPool, require_executable

# A refused connection fails at once: only the backoffs (0.15 s) add up.
GIVE_UP_BOUND_SECONDS = 1.0
PASSWORD = "s3cret-for-tests"


class PasswordRedis(redis_standin.RedisServer):
    def command(self) -> list[str]:
        return [*super().command(), "--requirepass", PASSWORD]


class TLSRedis(redis_standin.RedisServer):
    """redis-server speaking only TLS on its port, with a certificate for 127.0.0.1."""

    def command(self) -> list[str]:
        command = super().command()
        command[command.index("--port") + 1] = "0"  # no plain-text port
        return [
            *command,
            "--tls-port",
            str(self.port),
            "--tls-cert-file",
            str(self.workdir / "server.crt"),
            "--tls-key-file",
            str(self.workdir / "server.key"),
            "--tls-ca-cert-file",
            str(self.workdir / "ca.crt"),
            "--tls-auth-clients",
            "no",
        ]

    def make_certificates(self) -> Path:
        openssl = require_executable("openssl", "install Debian's openssl")
        work = self.workdir
        work.mkdir(parents=True, exist_ok=True)

        def run(*args: str) -> None:
            subprocess.run([openssl, *args], cwd=work, check=True, capture_output=True)

        rsa = ["-newkey", "rsa:2048", "-nodes"]
        run("req", "-x509", *rsa, "-days", "2", "-keyout", "ca.key", "-out", "ca.crt",
            "-subj", "/CN=statekit-test-ca")  # fmt: skip
        run("req", *rsa, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
        (work / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
        run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "san.cnf")  # fmt: skip
        return work / "ca.crt"


@pytest.fixture
def server_url(standins: StandInPool) -> str:
    return redis_url(standins)


@pytest.fixture
def raw(standins: StandInPool) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=standins.get("redis").port, protocol=2)


def test_values_are_json_text_with_a_millisecond_ttl(server_url: str, raw: redis.Redis) -> None:
    cache = open_cache(server_url)
    cache.set("wire/k", {"a": [1, "ü"]}, ttl=30)
    assert raw.get("wire/k") == '{"a":[1,"ü"]}'.encode()
    assert 0 < raw.pttl("wire/k") <= 30_000
    cache.set("wire/k", 1)
    assert raw.pttl("wire/k") == -1  # no TTL: none left over


def test_prefix_puts_keys_in_their_own_space(server_url: str, raw: redis.Redis) -> None:
    cache = open_cache(f"{server_url}?prefix=app1:")
    cache.set("p/k", "v")
    cache.set_many({"p/m": 1})
    assert raw.get("app1:p/k") == b'"v"'
    assert raw.get("app1:p/m") == b"1"
    assert raw.get("p/k") is None
    assert cache.get_many(["p/k", "p/m"]) == {"p/k": "v", "p/m": 1}
    assert cache.delete("p/k") is True


def test_text_not_written_by_statekit_is_a_clear_error(server_url: str, raw: redis.Redis) -> None:
    cache = open_cache(server_url)
    for text in (b"not json", b"\xff\xfe", b'{"a": }', b"1 2"):
        raw.set("foreign/k", text)
        with pytest.raises(statekit.InvalidValue, match=r"foreign/k.*not JSON"):
            cache.get("foreign/k")
        with pytest.raises(statekit.InvalidValue, match=r"foreign/k.*not JSON"):
            cache.get_many(["foreign/k"])
    raw.set("foreign/k", b' { "spaced" : [1, 2] } ')  # valid JSON from another writer
    assert cache.get("foreign/k") == {"spaced": [1, 2]}


def test_one_cache_and_pool_per_url_per_process(server_url: str) -> None:
    first = open_cache(server_url)
    assert open_cache(server_url) is first
    os.environ["STATEKIT_CACHE_URL"] = server_url
    try:
        assert open_cache() is first
    finally:
        del os.environ["STATEKIT_CACHE_URL"]


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("redis://127.0.0.1:6379/0?colour=red", "unknown query parameter 'colour'"),
        ("redis://127.0.0.1:6379/zero", "database number"),
        ("redis://:6379/0", "needs a host"),
        ("redis://h:1/0?password_env=A&password_secret=B", "not both"),
        ("redis://h:1/0?password_env=STATEKIT_TEST_UNSET_VARIABLE", "not set"),
        ("redis://h:1/0?password_secret=not-an-arn", "Secrets Manager ARN"),
        ("redis://:hunter2@h:1/0", "never goes in the URL"),
    ],
)
def test_bad_urls_are_refused_with_the_reason(url: str, rule: str) -> None:
    with pytest.raises(InvalidURL, match=rule):
        open_cache(url)


@pytest.fixture
def password_server(tmp_path: Path) -> Iterator[PasswordRedis]:
    server = PasswordRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_password_from_an_environment_variable(
    password_server: PasswordRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATEKIT_TEST_REDIS_PASSWORD", PASSWORD)
    cache = open_cache(f"{password_server.url}?password_env=STATEKIT_TEST_REDIS_PASSWORD")
    cache.set("auth/k", 1)
    assert cache.get("auth/k") == 1
    cache.close()


def test_wrong_password_is_refused(
    password_server: PasswordRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATEKIT_TEST_REDIS_PASSWORD", "wrong")
    cache = open_cache(f"{password_server.url}?password_env=STATEKIT_TEST_REDIS_PASSWORD")
    with pytest.raises(BackendUnavailable, match=r"(?i)invalid|auth|password"):
        cache.get("auth/k")
    cache.close()


def test_password_from_secrets_manager_read_once(
    password_server: PasswordRedis, standins: StandInPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3 = pytest.importorskip("boto3")
    moto = standins.get("moto")
    for name, value in moto.client_env().items():
        monkeypatch.setenv(name, value)
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(
        Name=f"cache-password-{time.time_ns()}",
        SecretString=f'{{"username": "default", "password": "{PASSWORD}"}}',
    )["ARN"]
    cache = open_cache(f"{password_server.url}?password_secret={arn}")
    cache.set("secret/k", "ok")
    assert cache.get("secret/k") == "ok"
    cache.close()
    # Resolved once per process: a second client for the same ARN needs no Secrets Manager.
    secrets.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)
    again = open_cache(f"{password_server.url}?password_secret={arn}&prefix=x:")
    assert again.get("secret/k") is None
    again.close()
    missing = arn.replace("cache-password", "no-such-secret")
    with pytest.raises(InvalidURL, match="could not be read"):
        open_cache(f"{password_server.url}?password_secret={missing}")


def test_rediss_verifies_the_server_certificate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = TLSRedis(tmp_path)
    ca_file = server.make_certificates()
    server.start()
    try:
        url = f"rediss://127.0.0.1:{server.port}/0"
        untrusted = open_cache(url)
        with pytest.raises(BackendUnavailable, match=r"(?i)certificate"):
            untrusted.get("tls/k")  # the test CA is not in the system's trust store
        untrusted.close()
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        trusted = open_cache(url)
        trusted.set("tls/k", {"over": "tls"})
        assert trusted.get("tls/k") == {"over": "tls"}
        trusted.close()
    finally:
        server.stop()


def test_stopped_server_gives_backend_unavailable_then_recovers(tmp_path: Path) -> None:
    server = redis_standin.create(tmp_path)  # our own: other suites never see it down
    server.start()
    cache = open_cache(server.url)
    try:
        cache.set("f/k", 1)
        server.stop()
        for call in (
            lambda: cache.get("f/k"),
            lambda: cache.set("f/k", 2),
            lambda: cache.get_many(["f/k"]),
            lambda: cache.set_many({"f/k": 2}),
            lambda: cache.delete("f/k"),
        ):
            started = time.monotonic()
            with pytest.raises(BackendUnavailable, match="unavailable"):
                call()
            assert time.monotonic() - started < GIVE_UP_BOUND_SECONDS
        server.start()  # same port: the pooled client reconnects on its own
        cache.set("f/k", 3)
        assert cache.get("f/k") == 3
    finally:
        cache.close()
        server.stop()


def test_retry_settings_are_bounded() -> None:
    per_attempt = (
        cache_redis.CACHE_CONNECT_TIMEOUT_SECONDS + cache_redis.CACHE_SOCKET_TIMEOUT_SECONDS
    )
    worst = cache_redis.CACHE_ATTEMPTS * per_attempt + sum(cache_redis.CACHE_BACKOFF_SECONDS)
    assert worst < 4.0
    assert len(cache_redis.CACHE_BACKOFF_SECONDS) == cache_redis.CACHE_ATTEMPTS - 1


def test_a_server_that_never_answers_gives_up_within_the_bound() -> None:
    silent = socket.socket()  # accepts connections (the kernel does), never replies
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        cache = open_cache(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="Timeout"):
            cache.get("hung/k")
        assert time.monotonic() - started < 4.0
        cache.close()
    finally:
        silent.close()


def test_threads_borrow_their_own_connections(server_url: str) -> None:
    cache = open_cache(f"{server_url}?prefix=threads:")
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(100):
                cache.set(f"t/{worker}", [worker, i])
                assert cache.get(f"t/{worker}") == [worker, i]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    backend = cache.backend
    assert isinstance(backend, cache_redis.RedisCache)
    assert 1 <= len(backend._lanes._all) <= 8  # one lane per call running at once, at most


def test_a_forked_child_uses_its_own_connections(server_url: str) -> None:
    cache = open_cache(f"{server_url}?prefix=fork:")
    cache.set("f/parent", 1)
    assert cache.get("f/parent") == 1  # the parent now holds a connected lane
    pid = os.fork()
    if pid == 0:  # the child: must not talk over the parent's socket
        code = 0
        try:
            for i in range(50):
                cache.set("f/child", i)
                code |= cache.get("f/child") != i
        except BaseException:
            code = 1
        os._exit(code)
    for i in range(50):  # the parent keeps going at the same time
        cache.set("f/parent", i)
        assert cache.get("f/parent") == i
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache.get("f/child") == 49


def test_a_rotated_secret_is_read_again_after_an_auth_failure(
    password_server: PasswordRedis, standins: StandInPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3 = pytest.importorskip("boto3")
    for name, value in standins.get("moto").client_env().items():
        monkeypatch.setenv(name, value)
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    arn = secrets.create_secret(Name=f"rotating-{time.time_ns()}", SecretString=PASSWORD)["ARN"]
    cache = open_cache(f"{password_server.url}?password_secret={arn}&prefix=rot:")
    cache.set("r/k", "before")
    # Rotation: the secret and the server change; existing connections are closed.
    secrets.put_secret_value(SecretId=arn, SecretString="rotated-password")
    admin = redis.Redis(host="127.0.0.1", port=password_server.port, password=PASSWORD)
    admin.config_set("requirepass", "rotated-password")
    admin.client_kill_filter(_type="normal", skipme=True)
    assert cache.get("r/k") == "before"  # reconnects, fails auth, re-reads the secret
    cache.close()
    admin.close()
