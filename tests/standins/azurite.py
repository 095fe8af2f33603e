"""Azurite's queue service on a free port, in memory (npm ``azurite``; runs on node 20 and 22)."""

from __future__ import annotations

from pathlib import Path

from tests.standins.base import NODE_MODULES, StandIn, require_executable, tcp_open

ACCOUNT = "devstoreaccount1"
# Azurite's documented development key: public, the same on every machine, not a secret.
WELL_KNOWN_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
KEY_VARIABLE = "STATEKIT_AZURITE_KEY"


class AzuriteQueue(StandIn):
    name = "azurite"
    start_timeout = 30.0

    def command(self) -> list[str]:
        node = require_executable("node", "install Node.js (20 or newer)")
        main = require_executable(
            NODE_MODULES / "azurite" / "dist" / "src" / "queue" / "main.js",
            "run 'make node' (npm ci installs azurite)",
        )
        return [
            node,
            main,
            "--queueHost",
            "127.0.0.1",
            "--queuePort",
            str(self.port),
            "--inMemoryPersistence",
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--silent",
        ]

    def is_ready(self) -> bool:
        return tcp_open(self.port)

    def client_env(self) -> dict[str, str]:
        return {KEY_VARIABLE: WELL_KNOWN_KEY}

    @property
    def account_url(self) -> str:
        return f"{self.endpoint}/{ACCOUNT}"

    def queue_url(self, queue: str) -> str:
        """A statekit URL for ``queue`` on this stand-in (the key comes from KEY_VARIABLE)."""
        return (
            f"azurequeue://{ACCOUNT}.queue.core.windows.net/{queue}"
            f"?endpoint={self.account_url}&key_env={KEY_VARIABLE}"
        )


def create(workdir: Path) -> AzuriteQueue:
    return AzuriteQueue(workdir)
