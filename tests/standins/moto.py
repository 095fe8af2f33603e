"""moto server: DynamoDB, SQS and Step Functions on one port (PyPI ``moto[server]``)."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

from tests.standins.base import StandIn, http_ok, require_executable

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class MotoServer(StandIn):
    name = "moto"

    def command(self) -> list[str]:
        binary = require_executable(
            Path(sys.executable).with_name("moto_server"),
            "pip install 'moto[server]' (make test does)",
        )
        return [binary, "-H", "127.0.0.1", "-p", str(self.port)]

    def process_env(self) -> dict[str, str]:
        return {**super().process_env(), "MOTO_PORT": str(self.port)}

    def is_ready(self) -> bool:
        return http_ok(f"{self.endpoint}/moto-api/")

    def client_env(self) -> dict[str, str]:
        return {**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def configure(self, body: dict[str, object]) -> None:
        """POST /moto-api/config, e.g. {"stepfunctions": {"execute_state_machine": True}}."""
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/config",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):
            pass


class RecordingMoto(MotoServer):
    """moto server that records every request, to rebuild its state after a restart
    (moto keeps its state in memory; the fault tests stop it mid-run)."""

    def process_env(self) -> dict[str, str]:
        return {
            **super().process_env(),
            "MOTO_ENABLE_RECORDING": "1",
            "MOTO_RECORDER_FILEPATH": str(self.workdir / "requests.jsonl"),
        }

    def replay(self) -> None:
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/recorder/replay-recording", data=b"", method="POST"
        )
        with urllib.request.urlopen(request, timeout=60):
            pass


def create(workdir: Path) -> MotoServer:
    return MotoServer(workdir)
