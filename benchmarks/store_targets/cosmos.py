"""Cosmos DB on cosmosdb-server: statekit's CosmosStore against azure-cosmos doing the same calls.

Both clients are made the same way (same options, same endpoint) and count every
HTTP response they receive (an azure-core ``raw_response_hook``, which runs
inside the SDK's retry loop, so retries count too).

``unsupported`` names operations the stand-in cannot run: cosmosdb-server
breaks transactional batches, which both sides of put_many(100) use.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from importlib.metadata import version as _version
from pathlib import Path
from typing import Any

from azure.core import MatchConditions
from azure.cosmos import CosmosClient

import statekit
from benchmarks.store_targets import RoundTrips
from statekit.store.backends.cosmos.ids import key_to_id
from statekit.store.backends.cosmos.store import (
    CLIENT_OPTIONS,
    CosmosStore,
    live_counter_filter,
    live_filter,
)
from tests.standins import cosmos as cosmos_module

_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class CosmosTarget:
    name = "cosmos"
    unsupported = {
        "put_many(100)": "cosmosdb-server: transactional batch fails (per-operation partition key)"
    }

    def __init__(self, workdir: Path) -> None:
        self._server = cosmos_module.create(workdir / "cosmos")
        self._server.start()
        os.environ.update(self._server.client_env())
        self.container_name = f"bench-{uuid.uuid4().hex[:8]}"
        self._server.create_container("bench", self.container_name)
        self.round_trips = RoundTrips()
        self.where = (
            f"@vercel/cosmosdb-server 1.0.1 (HTTP, no TLS), azure-cosmos {_version('azure-cosmos')}"
        )
        self._store_client = self._client()
        container = self._store_client.get_database_client("bench").get_container_client(
            self.container_name
        )
        self.store = statekit.Store(CosmosStore(container, self._store_client))
        # The raw side: the same SDK, options and endpoint, no statekit in between.
        self.client = self._client()
        self.container = self.client.get_database_client("bench").get_container_client(
            self.container_name
        )

    def _client(self) -> CosmosClient:
        def count(_: Any) -> None:
            self.round_trips.add()

        return CosmosClient(
            self._server.endpoint,
            credential=cosmos_module.EMULATOR_KEY,
            enable_endpoint_discovery=False,
            raw_response_hook=count,
            **CLIENT_OPTIONS,
        )

    @staticmethod
    def _doc(key: str, value: Any) -> dict[str, Any]:
        return {
            "id": key_to_id(key),
            "pk": key.partition("/")[0],
            "key": key,
            "v": _dumps(value),
            "exp": None,
        }

    def raw_get(self, key: str) -> Any:
        doc = self.container.read_item(key_to_id(key), key.partition("/")[0])
        return json.loads(doc["v"]) if doc.get("v") is not None else doc.get("n")

    def raw_put(self, key: str, value: Any) -> str:
        return str(self.container.upsert_item(self._doc(key, value))["_etag"])

    def raw_conditional_put(self, key: str, value: Any, etag: str) -> str:
        # The same condition as statekit's: this etag AND not expired (a patch filter).
        doc = self._doc(key, value)
        written = self.container.patch_item(
            doc["id"],
            doc["pk"],
            [
                {"op": "set", "path": "/v", "value": doc["v"]},
                {"op": "set", "path": "/n", "value": None},
                {"op": "set", "path": "/exp", "value": None},
                {"op": "set", "path": "/ttl", "value": -1},
            ],
            filter_predicate=live_filter(time.time()),
            etag=etag,
            match_condition=MatchConditions.IfNotModified,
        )
        return str(written["_etag"])

    def raw_replace_if_match(self, key: str, value: Any, etag: str) -> str:
        """A conditional put without the expiry check (shows what the filter costs)."""
        doc = self._doc(key, value)
        written = self.container.replace_item(
            doc["id"], doc, etag=etag, match_condition=MatchConditions.IfNotModified
        )
        return str(written["_etag"])

    def raw_increment(self, key: str) -> int:
        item_id, pk = key_to_id(key), key.partition("/")[0]
        try:
            doc = self.container.patch_item(
                item_id,
                pk,
                [{"op": "incr", "path": "/n", "value": 1}],
                filter_predicate=live_counter_filter(time.time(), 1),
            )
        except Exception:  # first call: the counter does not exist yet
            self.container.create_item({"id": item_id, "pk": pk, "key": key, "n": 1, "exp": None})
            return 1
        return int(doc["n"])

    def raw_put_many(self, items: Mapping[str, Any]) -> None:
        docs = [self._doc(key, value) for key, value in items.items()]
        by_partition: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            by_partition.setdefault(doc["pk"], []).append(doc)
        for pk, group in by_partition.items():
            for start in range(0, len(group), 100):
                chunk = group[start : start + 100]
                self.container.execute_item_batch(
                    [("upsert", (doc,)) for doc in chunk], partition_key=pk
                )

    def close(self) -> None:
        self.store.close()
        self.client.close()
        self._server.stop()


def make(workdir: Path) -> CosmosTarget:
    return CosmosTarget(workdir)
