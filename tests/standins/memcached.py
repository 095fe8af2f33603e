"""memcached on a free 127.0.0.1 port (Debian package ``memcached``), 64 MB, no UDP."""

from __future__ import annotations

import os
from pathlib import Path

from tests.standins.base import StandIn, require_executable, tcp_open


class MemcachedServer(StandIn):
    name = "memcached"
    start_timeout = 15.0

    def command(self) -> list[str]:
        binary = require_executable(
            "memcached", "install Debian's memcached (scripts/install_system.sh does)"
        )
        command = [binary, "-l", "127.0.0.1", "-p", str(self.port), "-U", "0", "-m", "64"]
        if os.geteuid() == 0:
            command += ["-u", "nobody"]  # memcached refuses to run as root without a user
        return command

    def is_ready(self) -> bool:
        return tcp_open(self.port)

    @property
    def url(self) -> str:
        return f"memcached://127.0.0.1:{self.port}"


def create(workdir: Path) -> MemcachedServer:
    return MemcachedServer(workdir)
