"""DynamoDB store (boto3): one table, ``pk`` (S) = partition, ``sk`` (S) = the full key.

The item layout and the condition expressions are in dynamodb_items.py.

Every condition is one ``ConditionExpression`` on the write itself, with
``ReturnValuesOnConditionCheckFailure=ALL_OLD`` so ``Conflict`` carries the item the
service saw, without a second read. Reads are ``ConsistentRead``.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from statekit.errors import BackendUnavailable, Conflict, InvalidValue, StatekitError
from statekit.store import rules
from statekit.store.backend import (
    PreparedCheck,
    PreparedOp,
    PreparedPut,
    StoreBackend,
    WriteCondition,
)
from statekit.store.backends.dynamodb.items import (
    IF_ABSENT,
    INCREMENT_IF,
    LIVE,
    TTL_ATTRIBUTE,
    Attrs,
    conflict_of,
    etag_of,
    item_attrs,
    item_of,
    key_attrs,
    number,
    write_condition,
)
from statekit.store.types import ALL_CAPABILITIES, Item, Limits
from statekit.urls import ConnectionURL

# What other modules import from here (the TTL attribute: tests and the table stand-in;
# the client config: benchmarks/store_targets/dynamodb.py).
__all__ = ["CLIENT_CONFIG", "TTL_ATTRIBUTE", "DynamoDBStore"]

BATCH_GET_CHUNK = 100  # BatchGetItem's limit
BATCH_WRITE_CHUNK = 25  # BatchWriteItem's limit
MAX_TRANSACTION_OPS = 100  # TransactWriteItems' limit
# A 409,600-byte item less the worst case of everything else in it: pk and sk (200 bytes
# each), the attribute names, the etag and the two expiry numbers (under 500 bytes).
MAX_VALUE_BYTES = 409_000
# Unprocessed batch items are retried this many times, with capped exponential backoff.
UNPROCESSED_RETRIES = 6
# Short timeouts and few attempts: a down endpoint becomes BackendUnavailable in
# seconds, not the SDK's default minute, and a Lambda keeps its time budget.
CLIENT_CONFIG = {
    "connect_timeout": 2,
    "read_timeout": 3,
    "retries": {"max_attempts": 3, "mode": "standard"},
    "max_pool_connections": 32,
    "tcp_keepalive": True,
}
# Error codes the SDK already retried (throttling, 5xx): the service is unavailable.
UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
        "LimitExceededException",
    }
)
CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")


class DynamoDBStore(StoreBackend):
    name = "dynamodb"
    capabilities = ALL_CAPABILITIES
    limits = Limits(
        max_value_bytes=MAX_VALUE_BYTES,
        max_transaction_ops=MAX_TRANSACTION_OPS,
        batch_read_chunk=BATCH_GET_CHUNK,
        batch_write_chunk=BATCH_WRITE_CHUNK,
        max_counter=10**38 - 1,  # a number holds 38 significant digits
        ttl_precision="exact on read (float seconds filtered); native TTL reclaims within days",
        consistency="strong (ConsistentRead on every read; serializable transactions)",
        notes=(
            "items up to 400 KB incl. keys and attribute names; a transaction up to 4 MB; "
            "integers up to 38 digits are native numbers; restarting an expired counter "
            "costs a second call"
        ),
    )

    def __init__(self, table: str, *, region: str | None = None, endpoint: str | None = None):
        self.table = table
        session = boto3.session.Session(region_name=region)
        if session.region_name is None:
            raise StatekitError(
                f"dynamodb table {table!r}: no region; add ?region=REGION to the URL "
                "or set AWS_REGION"
            )
        self.region = session.region_name
        self.client = session.client(
            "dynamodb", endpoint_url=endpoint, config=Config(**CLIENT_CONFIG)
        )

    @classmethod
    def from_url(cls, url: ConnectionURL) -> DynamoDBStore:
        url.require_known_params(("region", "endpoint"))
        # urlsplit lowercases the host; table names are case-sensitive, so read netloc.
        table = urlsplit(url.raw).netloc
        if not _TABLE_NAME.fullmatch(table):
            raise url.error(
                "the table name goes where the host would: dynamodb://TABLE?region=REGION "
                "(3 to 255 of A-Z a-z 0-9 _ . -)"
            )
        if url.path not in ("", "/"):
            raise url.error(f"a dynamodb URL has no path (got {url.path!r}); use ?region=")
        region = url.param("region") or None
        endpoint = url.param("endpoint") or None
        if endpoint is not None and not endpoint.startswith(("http://", "https://")):
            raise url.error(f"endpoint must be an http(s) URL, got {endpoint!r}")
        return cls(table, region=region, endpoint=endpoint)

    # -- translation helpers -------------------------------------------------------------
    def _item(self, attrs: Attrs | None, now: float) -> Item | None:
        """The live item in ``attrs`` (a service response), or None if absent or expired."""
        return item_of(attrs, now, self.table)

    def _conflict(
        self, key: str, condition: WriteCondition, old: Attrs | None, now: float
    ) -> Conflict:
        return conflict_of(key, condition, old, now, self.table)

    def _call(self, operation: str, method: Callable[..., Any], **kwargs: Any) -> Any:
        """One SDK call; its own bounded retries done, failures become statekit errors.

        Condition failures are re-raised as ``ClientError`` for the caller to map,
        because only the caller knows which key and condition they belong to.
        """
        try:
            return method(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in (CONDITION_FAILED, TRANSACTION_CANCELED):
                raise
            if code in UNAVAILABLE_CODES:
                raise BackendUnavailable(self.name, operation, exc) from None
            if code == "ResourceNotFoundException":
                raise StatekitError(
                    f"dynamodb table {self.table!r} not found in {self.region} during "
                    f"{operation}: create it (pk S hash, sk S range) or fix the store URL"
                ) from None
            raise StatekitError(f"dynamodb {operation} failed: {code}: {exc}") from None
        except (BotoConnectionError, HTTPClientError) as exc:  # refused, timeouts, reset
            raise BackendUnavailable(self.name, operation, exc) from None
        except BotoCoreError as exc:  # credentials, configuration
            raise StatekitError(f"dynamodb {operation} failed: {exc}") from None

    @staticmethod
    def _code(exc: ClientError) -> str:
        return str(exc.response.get("Error", {}).get("Code", ""))

    # -- hooks ---------------------------------------------------------------------------
    def get(self, key: str, now: float) -> Item | None:
        response = self._call(
            f"get of key {key!r}",
            self.client.get_item,
            TableName=self.table,
            Key=key_attrs(key),
            ConsistentRead=True,
        )
        return self._item(response.get("Item"), now)

    def get_many(self, keys: Sequence[str], now: float) -> dict[str, Item]:
        found: dict[str, Item] = {}
        for start in range(0, len(keys), BATCH_GET_CHUNK):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [key_attrs(k) for k in keys[start : start + BATCH_GET_CHUNK]],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(UNPROCESSED_RETRIES + 1):
                if attempt:
                    _backoff(attempt)
                response = self._call("get_many", self.client.batch_get_item, RequestItems=request)
                for attrs in response.get("Responses", {}).get(self.table, []):
                    item = self._item(attrs, now)
                    if item is not None:
                        found[item.key] = item
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
            if request:
                raise BackendUnavailable(
                    self.name, f"get_many ({len(request[self.table]['Keys'])} keys unprocessed)"
                )
        return found

    def put(self, op: PreparedPut, now: float) -> str:
        try:
            self._call(
                f"put of key {op.item.key!r}",
                self.client.put_item,
                TableName=self.table,
                Item=item_attrs(op),
                **write_condition(op.condition, now),
            )
        except ClientError as exc:
            old = exc.response.get("Item")
            if etag_of(old) == op.item.etag:
                return op.item.etag  # the SDK resent our applied write: it succeeded
            raise self._conflict(op.item.key, op.condition, old, now) from None
        return op.item.etag

    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        try:
            response = self._call(
                f"delete of key {key!r}",
                self.client.delete_item,
                TableName=self.table,
                Key=key_attrs(key),
                ReturnValues="ALL_OLD",
                **write_condition(condition, now),
            )
        except ClientError as exc:
            raise self._conflict(key, condition, exc.response.get("Item"), now) from None
        # An expired item the service still held is removed too, but did not exist.
        return self._item(response.get("Attributes"), now) is not None

    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        # Missing or live integer: one UpdateItem. An expired item still held by the
        # service must restart at 0, which ADD cannot express: that case alone takes a
        # second, conditional call (repeated if another writer gets in between).
        for _ in range(8):
            try:
                response = self._call(
                    f"increment of key {key!r}",
                    self.client.update_item,
                    TableName=self.table,
                    Key=key_attrs(key),
                    UpdateExpression="SET #e = :e ADD #n :by",
                    ConditionExpression=INCREMENT_IF,
                    ExpressionAttributeNames={"#e": "etag", "#n": "n", "#x": "expires_at"},
                    ExpressionAttributeValues={
                        ":e": {"S": etag},
                        ":by": {"N": str(by)},
                        ":now": number(now),
                    },
                    # ALL_NEW, not UPDATED_NEW: ``ADD 0`` leaves ``n`` unchanged, and
                    # UPDATED_NEW would then leave it out of the response.
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return int(response["Attributes"]["n"]["N"])
            except ClientError as exc:
                old = exc.response.get("Item")
            except StatekitError as exc:
                if "ValidationException" in str(exc) and "overflow" in str(exc).lower():
                    raise InvalidValue(key, "the sum is past DynamoDB's 38 digits") from None
                raise
            if old is not None and etag_of(old) == etag:
                return int(old["n"]["N"])  # a resent request already applied: once only
            if self._item(old, now) is not None:
                raise InvalidValue(
                    key,
                    "increment needs an integer value (at most 38 digits); "
                    "the stored value is not one",
                )
            try:
                self._call(
                    f"increment of key {key!r}",
                    self.client.put_item,
                    TableName=self.table,
                    Item={**key_attrs(key), "n": {"N": str(by)}, "etag": {"S": etag}},
                    ConditionExpression=IF_ABSENT,
                    ExpressionAttributeNames={"#x": "expires_at"},
                    ExpressionAttributeValues={":now": number(now)},
                )
                return by
            except ClientError:
                continue  # recreated meanwhile: add to the new item instead
        raise Conflict(key, "increment: the item kept being recreated while restarting it")

    def _batch_write(
        self, operation: str, requests: list[tuple[str, dict[str, Any]]]
    ) -> dict[str, StatekitError]:
        """BatchWriteItem in chunks of 25; unprocessed items retried with backoff.

        Keys still unprocessed after the retries, and every key not yet sent when the
        service became unreachable, are reported as failed; nothing is dropped silently.
        """
        failed: dict[str, StatekitError] = {}
        for start in range(0, len(requests), BATCH_WRITE_CHUNK):
            chunk = requests[start : start + BATCH_WRITE_CHUNK]
            pending = {_request_key(request): key for key, request in chunk}
            unprocessed = [request for _, request in chunk]
            try:
                for attempt in range(UNPROCESSED_RETRIES + 1):
                    if attempt:
                        _backoff(attempt)
                    response = self._call(
                        operation,
                        self.client.batch_write_item,
                        RequestItems={self.table: unprocessed},
                    )
                    unprocessed = response.get("UnprocessedItems", {}).get(self.table, [])
                    if not unprocessed:
                        break
            except BackendUnavailable as exc:  # unreachable: this chunk and the rest fail
                for key, _ in requests[start:]:
                    failed[key] = exc
                return failed
            except StatekitError as exc:  # refused (e.g. validation): this chunk only
                for key, _ in chunk:
                    failed[key] = exc
                continue
            for request in unprocessed:
                key = pending[_request_key(request)]
                failed[key] = BackendUnavailable(
                    self.name, f"{operation}: still unprocessed after {UNPROCESSED_RETRIES} retries"
                )
        return failed

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> dict[str, StatekitError]:
        return self._batch_write(
            "put_many", [(op.item.key, {"PutRequest": {"Item": item_attrs(op)}}) for op in ops]
        )

    def delete_many(self, keys: Sequence[str], now: float) -> dict[str, StatekitError]:
        return self._batch_write(
            "delete_many", [(key, {"DeleteRequest": {"Key": key_attrs(key)}}) for key in keys]
        )

    def _transact_item(self, op: PreparedOp, now: float) -> dict[str, Any]:
        if isinstance(op, PreparedPut):
            body = {"TableName": self.table, "Item": item_attrs(op)}
            return {"Put": {**body, **write_condition(op.condition, now)}}
        body = {"TableName": self.table, "Key": key_attrs(op.key)}
        kind = "ConditionCheck" if isinstance(op, PreparedCheck) else "Delete"
        return {kind: {**body, **write_condition(op.condition, now)}}

    def transact(self, ops: Sequence[PreparedOp], now: float) -> list[str | None]:
        try:
            self._call(
                f"transact of keys {[_op_key(op) for op in ops]!r}",
                self.client.transact_write_items,
                TransactItems=[self._transact_item(op, now) for op in ops],
                # Makes the SDK's own retries of this call idempotent on the service.
                ClientRequestToken=uuid.uuid4().hex,
            )
        except ClientError as exc:
            raise self._transaction_error(ops, exc, now) from None
        return [op.item.etag if isinstance(op, PreparedPut) else None for op in ops]

    def _transaction_error(
        self, ops: Sequence[PreparedOp], exc: ClientError, now: float
    ) -> StatekitError:
        reasons = exc.response.get("CancellationReasons") or []
        for op, reason in zip(ops, reasons, strict=False):
            code = reason.get("Code", "None")
            if code in ("None", None):
                continue
            key = op.item.key if isinstance(op, PreparedPut) else op.key
            if code == "ConditionalCheckFailed":
                return self._conflict(key, op.condition, reason.get("Item"), now)
            if code == "TransactionConflict":
                return Conflict(key, "another transaction was writing this key at the same time")
            if code in ("ThrottlingError", "ProvisionedThroughputExceeded"):
                return BackendUnavailable(self.name, f"transact ({code} on {key!r})")
            return StatekitError(
                f"dynamodb transaction cancelled on key {key!r}: {code}: {reason.get('Message')}"
            )
        return StatekitError(f"dynamodb transaction cancelled: {exc}")

    def list(self, prefix: str, after: str | None, limit: int, now: float) -> list[Item]:
        if after is not None and not after.startswith(prefix):
            if after > prefix:
                return []  # past every key with this prefix
            after = None
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
            "FilterExpression": LIVE,
            "ExpressionAttributeNames": {"#x": "expires_at"},
            "ExpressionAttributeValues": {
                ":p": {"S": rules.partition_of(prefix)},
                ":s": {"S": prefix},
                ":now": number(now),
            },
            "ConsistentRead": True,
            "Limit": limit,
        }
        if after is not None:
            request["ExclusiveStartKey"] = key_attrs(after)
        items: list[Item] = []
        # Limit counts items read before the filter: keep paging past expired ones.
        while len(items) < limit:
            response = self._call(f"list of prefix {prefix!r}", self.client.query, **request)
            for attrs in response.get("Items", []):
                item = self._item(attrs, now)
                if item is not None:
                    items.append(item)
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return items[:limit]

    def close(self) -> None:
        self.client.close()


def _request_key(request: dict[str, Any]) -> str:
    body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
    return str(body["sk"]["S"])


def _backoff(attempt: int) -> None:
    """Capped exponential backoff with full jitter, as AWS recommends for batch retries."""
    time.sleep(random.uniform(0, min(1.0, 0.05 * 2**attempt)))


def _op_key(op: PreparedOp) -> str:
    return op.item.key if isinstance(op, PreparedPut) else op.key
