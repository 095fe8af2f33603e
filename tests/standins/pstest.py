"""The Go pstest Pub/Sub fake on a free port (built by scripts/tools/pstest.sh into .tools/)."""

from __future__ import annotations

from pathlib import Path

from tests.standins.base import TOOLS, StandIn, require_executable, tcp_open


class PstestServer(StandIn):
    name = "pstest"
    start_timeout = 15.0

    def command(self) -> list[str]:
        binary = require_executable(
            TOOLS / "pstest",
            "run 'make tools' (scripts/tools/pstest.sh builds it from Debian's golang-go "
            "and golang-google-cloud-dev)",
        )
        return [binary, "-port", str(self.port)]

    def is_ready(self) -> bool:
        return tcp_open(self.port)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client_env(self) -> dict[str, str]:
        return {"PUBSUB_EMULATOR_HOST": self.host}

    @staticmethod
    def queue_url(name: str, project: str = "statekit-test") -> str:
        return f"pubsub://{project}/{name}?subscription={name}-sub"


def create(workdir: Path) -> PstestServer:
    return PstestServer(workdir)
