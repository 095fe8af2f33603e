"""DynamoDB on moto server: statekit's DynamoDBStore against boto3's client doing the same calls."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from importlib.metadata import version as _version
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

import statekit
from benchmarks.store_targets import RoundTrips, count_boto3_requests
from statekit.store.backends.dynamodb.store import CLIENT_CONFIG
from statekit.store.rules import new_etag
from tests.standins import moto as moto_module
from tests.standins.dynamodb_table import create_store_table

_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class DynamoDBTarget:
    name = "dynamodb"

    def __init__(self, workdir: Path) -> None:
        self._server = moto_module.create(workdir / "moto")
        self._server.start()
        os.environ.update(self._server.client_env())
        self.table = f"bench-{uuid.uuid4().hex[:8]}"
        create_store_table(self._server.endpoint, self.table)
        self.round_trips = RoundTrips()
        self.where = f"moto server {_version('moto')} (DynamoDB), boto3 {_version('boto3')}"
        self.store = statekit.open_store(f"dynamodb://{self.table}?region=us-east-1")
        count_boto3_requests(self.store.backend.client, self.round_trips)  # type: ignore[attr-defined]
        # The raw side: the same SDK, configuration and endpoint, no statekit in between.
        self.client = boto3.session.Session().client(
            "dynamodb", region_name="us-east-1", config=Config(**CLIENT_CONFIG)
        )
        count_boto3_requests(self.client, self.round_trips)

    @staticmethod
    def _key(key: str) -> dict[str, Any]:
        return {"pk": {"S": key.partition("/")[0]}, "sk": {"S": key}}

    def raw_get(self, key: str) -> Any:
        item = self.client.get_item(TableName=self.table, Key=self._key(key), ConsistentRead=True)
        found = item.get("Item")
        if found is None or (
            "expires_at" in found and float(found["expires_at"]["N"]) <= time.time()
        ):
            return None
        return json.loads(found["v"]["S"])

    def raw_put(self, key: str, value: Any) -> str:
        etag = new_etag()
        item = {**self._key(key), "v": {"S": _dumps(value)}, "etag": {"S": etag}}
        self.client.put_item(TableName=self.table, Item=item)
        return etag

    def raw_conditional_put(self, key: str, value: Any, etag: str) -> str:
        # The same request statekit sends: an expired item must not match either.
        new = new_etag()
        item = {**self._key(key), "v": {"S": _dumps(value)}, "etag": {"S": new}}
        self.client.put_item(
            TableName=self.table,
            Item=item,
            ConditionExpression="#e = :m AND (attribute_not_exists(#x) OR #x > :now)",
            ExpressionAttributeNames={"#e": "etag", "#x": "expires_at"},
            ExpressionAttributeValues={":m": {"S": etag}, ":now": {"N": repr(time.time())}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return new

    def raw_increment(self, key: str) -> int:
        # The same request statekit sends: only a missing or live integer item is added to.
        response = self.client.update_item(
            TableName=self.table,
            Key=self._key(key),
            UpdateExpression="SET #e = :e ADD #n :by",
            ConditionExpression="attribute_not_exists(pk) OR (attribute_exists(#n) AND "
            "#e <> :e AND (attribute_not_exists(#x) OR #x > :now))",
            ExpressionAttributeNames={"#e": "etag", "#n": "n", "#x": "expires_at"},
            ExpressionAttributeValues={
                ":e": {"S": new_etag()},
                ":by": {"N": "1"},
                ":now": {"N": repr(time.time())},
            },
            ReturnValues="UPDATED_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return int(response["Attributes"]["n"]["N"])

    def raw_put_many(self, items: Mapping[str, Any]) -> None:
        requests = [
            {
                "PutRequest": {
                    "Item": {**self._key(k), "v": {"S": _dumps(v)}, "etag": {"S": new_etag()}}
                }
            }
            for k, v in items.items()
        ]
        for start in range(0, len(requests), 25):
            chunk = requests[start : start + 25]
            while chunk:
                response = self.client.batch_write_item(RequestItems={self.table: chunk})
                chunk = response.get("UnprocessedItems", {}).get(self.table, [])

    def close(self) -> None:
        self.store.close()
        self.client.close()
        self._server.stop()


def make(workdir: Path) -> DynamoDBTarget:
    return DynamoDBTarget(workdir)
