"""@firestore-emulator/server 0.3.15 (npm): Firestore's gRPC API, in memory, on 127.0.0.1.

The package has no CLI and binds 0.0.0.0, so ``firestore_launcher.js`` binds its
gRPC server to the loopback address. Clients find it through
``FIRESTORE_EMULATOR_HOST``. Deviations from the real service are listed in
../shared/EMULATORS.md; the Firestore conformance case marks the tests they break.
"""

from __future__ import annotations

from pathlib import Path

from tests.standins.base import NODE_MODULES, StandIn, require_executable, tcp_open

LAUNCHER = Path(__file__).with_name("firestore_launcher.js")
PACKAGE = NODE_MODULES / "@firestore-emulator" / "server" / "package.json"
PROJECT = "statekit-test"


class FirestoreEmulator(StandIn):
    name = "firestore"
    start_timeout = 30.0

    def command(self) -> list[str]:
        node = require_executable("node", "install Node.js 20 or newer")
        require_executable(PACKAGE, "run `npm ci` in the repository (make test does)")
        return [node, str(LAUNCHER), str(self.port)]

    def is_ready(self) -> bool:
        return tcp_open(self.port)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def client_env(self) -> dict[str, str]:
        return {"FIRESTORE_EMULATOR_HOST": self.host, "GOOGLE_CLOUD_PROJECT": PROJECT}

    def store_url(self, collection: str, database: str = "(default)") -> str:
        return f"firestore://{PROJECT}/{database}/{collection}"


def create(workdir: Path) -> FirestoreEmulator:
    return FirestoreEmulator(workdir)
