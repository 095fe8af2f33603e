"""@vercel/cosmosdb-server 1.0.1: the Cosmos DB NoSQL REST API over plain HTTP (npm).

Its deviations from the real service are listed in ../shared/EMULATORS.md; the
Cosmos conformance case marks the tests they break.
"""

from __future__ import annotations

from pathlib import Path

from tests.standins.base import NODE_MODULES, StandIn, require_executable, tcp_open

CLI = NODE_MODULES / "@vercel" / "cosmosdb-server" / "lib" / "cli.js"
# Microsoft's published emulator key: the server only needs valid base64.
EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)


class CosmosDBServer(StandIn):
    name = "cosmos"
    start_timeout = 20.0

    def command(self) -> list[str]:
        node = require_executable("node", "install Node.js 20 or newer")
        require_executable(CLI, "run `npm ci` in the repository (make test does)")
        return [node, str(CLI), "-p", str(self.port), "--host", "127.0.0.1", "--no-ssl"]

    def is_ready(self) -> bool:
        return tcp_open(self.port)

    def client_env(self) -> dict[str, str]:
        return {"STATEKIT_COSMOS_KEY": EMULATOR_KEY}

    def store_url(self, database: str, container: str) -> str:
        return f"cosmos://localhost/{database}/{container}?endpoint={self.endpoint}/"

    def create_container(self, database: str, container: str) -> None:
        """What the IaC provisions: partition key path /pk, default TTL on (-1)."""
        from azure.cosmos import CosmosClient, PartitionKey

        client = CosmosClient(
            self.endpoint, credential=EMULATOR_KEY, enable_endpoint_discovery=False
        )
        try:
            db = client.create_database_if_not_exists(database)
            db.create_container_if_not_exists(
                container, partition_key=PartitionKey(path="/pk"), default_ttl=-1
            )
        finally:
            client.close()


def create(workdir: Path) -> CosmosDBServer:
    return CosmosDBServer(workdir)
