"""redis-server 7 on a free port, nothing persisted (Debian package ``redis-server``)."""

from __future__ import annotations

from pathlib import Path

from tests.standins.base import StandIn, require_executable, tcp_open


class RedisServer(StandIn):
    name = "redis"
    start_timeout = 15.0

    def command(self) -> list[str]:
        binary = require_executable(
            "redis-server", "install Debian's redis-server (make test does)"
        )
        return [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
        ]

    def is_ready(self) -> bool:
        return tcp_open(self.port)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class DurableRedis(RedisServer):
    """Append-only file, fsync on every write: what was acknowledged survives a restart
    (the fault tests stop it mid-run and check nothing was lost or half-applied)."""

    def command(self) -> list[str]:
        plain = super().command()
        at = plain.index("--appendonly")
        return [*plain[:at], "--appendonly", "yes", "--appendfsync", "always", *plain[at + 2 :]]


def create(workdir: Path) -> RedisServer:
    return RedisServer(workdir)
