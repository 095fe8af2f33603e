"""A TLS redis-server standing in for ElastiCache, which MiniStack cannot run without Docker.

MiniStack answers every cache endpoint with ``REDIS_HOST``:``REDIS_PORT``; the
stack's cache URL names port 6379, so the server listens there, on 127.0.0.2
when 127.0.0.1:6379 is taken (a machine's own redis). TLS with a self-signed
certificate for that address, trusted through ``SSL_CERT_FILE`` by the Lambda
processes (they inherit MiniStack's environment); the password is the one the
stack generated and put in Secrets Manager, so it is known only after the apply.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PORT = 6379  # modules/aws/network.py REDIS_PORT: the port in every cache URL


def redis_server() -> str | None:
    return shutil.which("redis-server")


def free_host() -> str:
    """A loopback address whose port 6379 is free."""
    for host in ("127.0.0.2", "127.0.0.3", "127.0.0.1"):
        with socket.socket() as probe:
            try:
                probe.bind((host, PORT))
            except OSError:
                continue
            return host
    raise RuntimeError(f"port {PORT} is taken on 127.0.0.1-3: no address for the cache stand-in")


@dataclass(frozen=True)
class Certificate:
    host: str
    cert: Path
    key: Path


def self_signed(directory: Path, host: str) -> Certificate:
    cert, key = directory / "redis.crt", directory / "redis.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", f"/CN={host}", "-addext", f"subjectAltName=IP:{host}",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return Certificate(host, cert, key)


@contextmanager
def running_tls_redis(
    certificate: Certificate,
    password: str,
    workdir: Path,
    *,
    cluster: bool = False,
    user: str = "",
) -> Iterator[None]:
    """``cluster``: one node owning every slot (ElastiCache Serverless speaks only Redis
    Cluster); ``user``: an ACL user with the password (its RBAC user), besides ``default``."""
    cluster_args = (
        [
            "--cluster-enabled", "yes", "--cluster-config-file", str(workdir / "nodes.conf"),
            "--tls-cluster", "yes", "--cluster-announce-ip", certificate.host,
        ]
        if cluster
        else []
    )  # fmt: skip
    server = subprocess.Popen(
        [
            str(redis_server()), "--bind", certificate.host, "--port", "0",
            "--tls-port", str(PORT), "--tls-cert-file", str(certificate.cert),
            "--tls-key-file", str(certificate.key), "--tls-ca-cert-file", str(certificate.cert),
            "--tls-auth-clients", "no", "--requirepass", password,
            "--save", "", "--appendonly", "no", "--dir", str(workdir),
            *cluster_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((certificate.host, PORT), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the TLS redis-server did not start") from None
                time.sleep(0.05)
        _configure(certificate, password, cluster=cluster, user=user)
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def _configure(certificate: Certificate, password: str, *, cluster: bool, user: str) -> None:
    import redis

    # execute_command is untyped in redis-py: the raw commands mirror what ElastiCache sets up.
    admin: Any = redis.Redis(
        host=certificate.host,
        port=PORT,
        password=password,
        ssl=True,
        ssl_ca_certs=str(certificate.cert),
    )
    if user:
        admin.execute_command("ACL", "SETUSER", user, "on", f">{password}", "~*", "&*", "+@all")
    if cluster:
        admin.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        deadline = time.monotonic() + 10
        while admin.execute_command("CLUSTER", "INFO").decode().find("cluster_state:ok") < 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the one-node cluster did not reach cluster_state:ok")
            time.sleep(0.05)
