"""redis-server speaking only TLS on 127.0.0.1, with a throwaway CA made by the openssl CLI.

``cluster=True`` makes it a one-node Redis Cluster owning every slot (cluster bus over
TLS too), as Azure Cache for Redis Premium with clustering answers; ``requirepass`` sets
the ``default`` user's password (the tests' admin connection), so only a known user
gets in.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from tests.standins import redis as redis_standin
from tests.standins.base import StandInUnavailable, free_port, require_executable


def make_certificates(folder: Path) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1 and localhost, valid for a day."""
    openssl = require_executable("openssl", "install Debian's openssl")
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


class TLSRedis(redis_standin.RedisServer):
    name = "redis-tls"

    def __init__(
        self,
        workdir: Path,
        certificates: dict[str, Path],
        *,
        cluster: bool = False,
        requirepass: str | None = None,
    ) -> None:
        super().__init__(workdir)
        self.certificates = certificates
        self.cluster = cluster
        self.requirepass = requirepass

    def command(self) -> list[str]:
        plain = super().command()
        at = plain.index("--port")
        extra = ["--requirepass", self.requirepass] if self.requirepass else []
        if self.cluster:
            extra += [
                "--cluster-enabled", "yes", "--tls-cluster", "yes",
                "--cluster-config-file", str(self.workdir / "nodes.conf"),
                "--cluster-port", str(free_port()),
            ]  # fmt: skip
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
            *extra,
        ]

    def admin(self) -> Any:
        """A plain redis-py client as ``default`` (``Any``: execute_command is untyped)."""
        import redis

        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            password=self.requirepass,
            ssl=True,
            ssl_ca_certs=str(self.certificates["ca.crt"]),
            protocol=2,
        )

    def after_start(self) -> None:
        if not self.cluster:
            return
        admin = self.admin()
        try:
            admin.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
            deadline = time.monotonic() + 10
            while b"cluster_state:ok" not in admin.execute_command("CLUSTER", "INFO"):
                if time.monotonic() > deadline:
                    raise StandInUnavailable("the one-node TLS cluster did not reach state ok")
                time.sleep(0.05)
        finally:
            admin.close()
