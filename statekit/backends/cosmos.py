"""Azure Cosmos DB (NoSQL API) store backend, through azure-cosmos.

URL: ``cosmos://ACCOUNT_HOST/DATABASE/CONTAINER[?endpoint=URL]``. The container's
partition key path is ``/pk`` and holds the key's partition, so a transaction
(one transactional batch) and a listing (one single-partition query) stay in
one logical partition. The container's default TTL must be on (``-1``: items
never expire unless they say so); the IaC sets it.

One item per key::

    {"id": <key, escaped: cosmos_ids>, "pk": <partition>, "key": <key>,
     "v": <JSON text> | null, "n": <integer> | null,
     "exp": <exact expiry, epoch seconds> | null, "ttl": <seconds> | -1}

``n`` holds integer values (within +-2**53, where a JSON number is exact) so that
``increment`` is a native patch ``incr``; every other value is ``v``, the
canonical JSON text. ``ttl`` lets Cosmos DB reclaim the item (whole seconds,
counted from its last write, rounded up so never before ``exp``); every read,
condition and listing filters on the exact ``exp``. The etag is the service's
``_etag``, checked with ``If-Match``.

Credentials: ``DefaultAzureCredential`` (managed identity in Azure). Only for
an emulator on a loopback ``endpoint=`` is an account key used: the one in
``$STATEKIT_COSMOS_KEY``, or the emulator's published well-known key. A key is
never read from the URL.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, HttpResponseError
from azure.cosmos import ContainerProxy, CosmosClient
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError

from statekit import rules
from statekit.backends.base import (
    PreparedDelete,
    PreparedOp,
    PreparedPut,
    StoreBackend,
    WriteCondition,
)
from statekit.backends.cosmos_ids import key_to_id
from statekit.errors import (
    BackendUnavailable,
    Conflict,
    InvalidTransaction,
    InvalidValue,
    StatekitError,
)
from statekit.store import ALL_CAPABILITIES, Item, Limits
from statekit.urls import ConnectionURL

KEY_VARIABLE = "STATEKIT_COSMOS_KEY"
# Microsoft's published key of the local Cosmos DB emulators (not a secret: it is
# the same on every emulator and works nowhere else). Used only for loopback endpoints.
EMULATOR_WELL_KNOWN_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

MAX_BATCH_OPS = 100  # a transactional batch: at most 100 operations...
MAX_BATCH_BYTES = 1_800_000  # ...and 2 MB of request; keep room for the envelope
MAX_EXACT_INTEGER = 2**53  # JSON numbers are doubles: integers are exact below this
RACE_ATTEMPTS = 8  # bounded loops where an item changes between two calls
DELETE_MANY_CONCURRENCY = 8

# Short timeouts and few retries, so a stopped server is reported in seconds and a
# hung one within ~10 s for a read (one retry) and ~5 s for a write (writes are not
# retried after a lost response); throttling (429) keeps the SDK's own generous policy.
CLIENT_OPTIONS: dict[str, Any] = {
    "connection_timeout": 3,
    "read_timeout": 5,
    "retry_total": 2,
    "retry_connect": 2,
    "retry_read": 1,
    "retry_backoff_factor": 0.2,
    "retry_backoff_max": 2,
    "retry_throttle_total": 9,
    "retry_throttle_backoff_max": 30,
}

_INTEGER = re.compile(r"-?[0-9]+")
# @vercel/cosmosdb-server 1.0.1 answers a point read of a missing item with HTTP 500
# and the JavaScript TypeError it hit (reading our partition key path of an undefined
# document) instead of 404. The real service answers 404, and a real 500 never carries
# this text, so a genuine server error still surfaces as BackendUnavailable.
_EMULATOR_MISSING_ITEM = "Cannot read properties of undefined (reading 'pk')"


def _status(exc: CosmosHttpResponseError) -> int:
    return int(exc.status_code or 0)


def _native_ttl(expires_at: float | None, now: float) -> int:
    """Whole seconds for Cosmos DB's reclaim: never before the exact expiry."""
    if expires_at is None:
        return -1
    return max(1, math.ceil(expires_at - now) + 1)


def live_filter(now: float) -> str:
    """Patch filter predicate: the item has not expired (the service evaluates it).

    Every item statekit writes has ``exp`` (null without a TTL). Written without
    parentheses: cosmosdb-server parses each nested group noticeably slowly.
    """
    return f"FROM c WHERE IS_NULL(c.exp) OR c.exp > {now!r}"


def live_counter_filter(now: float) -> str:
    """Patch filter predicate: a live item whose value is a native integer (``n``)."""
    return f"FROM c WHERE IS_NUMBER(c.n) AND IS_NULL(c.exp) OR IS_NUMBER(c.n) AND c.exp > {now!r}"


def _value(doc: dict[str, Any]) -> Any:
    text = doc.get("v")
    if text is None:
        return doc.get("n")
    return rules.decode_value(text)


def _expired(doc: dict[str, Any], now: float) -> bool:
    return rules.is_expired(doc.get("exp"), now)


def _item(doc: dict[str, Any]) -> Item:
    return Item(doc["key"], _value(doc), doc["_etag"], doc.get("exp"))


def _result_etag(result: dict[str, Any]) -> str:
    body = result.get("resourceBody") or {}
    return str(body.get("_etag") or result.get("eTag"))


class CosmosStore(StoreBackend):
    name = "cosmos"
    capabilities = ALL_CAPABILITIES
    limits = Limits(
        max_value_bytes=1_900_000,
        max_transaction_ops=MAX_BATCH_OPS,
        batch_read_chunk=1000,
        batch_write_chunk=MAX_BATCH_OPS,
        ttl_precision="exact (float seconds, filtered on read); per-item ttl reclaims in whole seconds",
        consistency="the account's level: Strong, or Session (read-your-writes per client)",
        notes=(
            "items up to 2 MB; transactions and put_many batches are transactional batches "
            "(100 ops, 2 MB, one partition); integers are exact within +-2**53"
        ),
    )

    def __init__(self, container: ContainerProxy, client: CosmosClient | None = None) -> None:
        self._container = container
        self._client = client

    @classmethod
    def from_url(cls, url: ConnectionURL) -> CosmosStore:
        url.require_known_params(("endpoint",))
        parts = url.path_parts()
        if not url.host or len(parts) != 2:
            raise url.error(
                "expected cosmos://ACCOUNT_HOST/DATABASE/CONTAINER "
                "(e.g. cosmos://myaccount.documents.azure.com/app/state)"
            )
        endpoint = url.param("endpoint") or f"https://{url.host}:443/"
        split = urlsplit(endpoint)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise url.error(f"endpoint must be an http(s) URL, got {endpoint!r}")
        if "@" in split.netloc or split.query:
            raise url.error("endpoint must not carry credentials or a query string")
        options = dict(CLIENT_OPTIONS)
        credential: Any
        if split.hostname in LOOPBACK_HOSTS:
            # A local emulator: an account key (never a real account's) and no endpoint
            # discovery, which would follow the emulator's advertised https address.
            credential = os.environ.get(KEY_VARIABLE) or EMULATOR_WELL_KNOWN_KEY
            options["enable_endpoint_discovery"] = False
        else:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        database, container = parts
        try:
            client = CosmosClient(endpoint, credential=credential, **options)
        except AzureError as exc:
            raise BackendUnavailable(cls.name, f"connect to {endpoint}", exc) from None
        proxy = client.get_database_client(database).get_container_client(container)
        return cls(proxy, client)

    # -- plumbing ------------------------------------------------------------------------
    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        """Turn every SDK error left unhandled into statekit's (none escapes)."""
        try:
            yield
        except StatekitError:
            raise
        except HttpResponseError as exc:  # CosmosHttpResponseError, CosmosBatchOperationError
            status = int(exc.status_code or 0)
            if status in (408, 429, 449) or status >= 500:
                raise BackendUnavailable(self.name, operation, exc) from None
            raise StatekitError(
                f"cosmos refused {operation} with HTTP {status}: {exc.message}"
            ) from None
        except AzureError as exc:  # connection refused, timeouts, DNS, ...
            raise BackendUnavailable(self.name, operation, exc) from None

    def _doc(self, op: PreparedPut, now: float) -> dict[str, Any]:
        key = op.item.key
        number = None
        text: str | None = op.data
        if _INTEGER.fullmatch(op.data) and abs(int(op.data)) < MAX_EXACT_INTEGER:
            number, text = int(op.data), None
        return {
            "id": key_to_id(key),
            "pk": rules.partition_of(key),
            "key": key,
            "v": text,
            "n": number,
            "exp": op.item.expires_at,
            "ttl": _native_ttl(op.item.expires_at, now),
        }

    @staticmethod
    def _set_ops(doc: dict[str, Any]) -> list[dict[str, Any]]:
        """Patch operations that make an existing item hold ``doc``'s value and expiry."""
        return [
            {"op": "set", "path": f"/{name}", "value": doc[name]}
            for name in ("v", "n", "exp", "ttl")
        ]

    def _read(self, key: str) -> dict[str, Any] | None:
        """The stored document, expired or not; ``None`` if there is none."""
        try:
            return dict(self._container.read_item(key_to_id(key), rules.partition_of(key)))
        except CosmosHttpResponseError as exc:
            if _status(exc) == 404 or (
                _status(exc) == 500 and _EMULATOR_MISSING_ITEM in str(exc.message)
            ):
                return None
            raise

    # -- hooks ---------------------------------------------------------------------------
    def get(self, key: str, now: float) -> Item | None:
        with self._errors("get"):
            doc = self._read(key)
        return None if doc is None or _expired(doc, now) else _item(doc)

    def get_many(self, keys: Sequence[str], now: float) -> dict[str, Item]:
        wanted = [(key_to_id(key), rules.partition_of(key)) for key in keys]
        with self._errors("get_many"):
            docs = list(self._container.read_items(wanted))
        return {doc["key"]: _item(doc) for doc in docs if not _expired(doc, now)}

    def put(self, op: PreparedPut, now: float) -> str:
        doc = self._doc(op, now)
        condition = op.condition
        with self._errors("put"):
            if condition.if_match is not None:
                return self._put_if_match(op.item.key, doc, condition.if_match, now)
            if condition.if_absent:
                return self._put_if_absent(op.item.key, doc, now)
            return str(self._container.upsert_item(doc)["_etag"])

    def _put_if_match(self, key: str, doc: dict[str, Any], etag: str, now: float) -> str:
        # A patch, not a replace: its filter predicate makes the service refuse an item
        # that expired but is not reclaimed yet, in the same round trip as If-Match.
        try:
            written = self._container.patch_item(
                doc["id"],
                doc["pk"],
                self._set_ops(doc),
                filter_predicate=live_filter(now),
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except CosmosHttpResponseError as exc:
            if _status(exc) == 404:
                raise Conflict(
                    key, "if_match: the key does not exist", None, current_reported=True
                ) from None
            if _status(exc) == 412:
                raise Conflict(key, "if_match: the item changed or expired") from None
            raise
        return str(written["_etag"])

    def _put_if_absent(self, key: str, doc: dict[str, Any], now: float) -> str:
        for _ in range(RACE_ATTEMPTS):
            try:
                return str(self._container.create_item(doc)["_etag"])
            except CosmosHttpResponseError as exc:
                if _status(exc) != 409:
                    raise
            current = self._read(key)
            if current is None:
                continue  # deleted since the create: try again
            if not _expired(current, now):
                raise Conflict(key, "if_absent: the key already exists", _item(current))
            # Expired but not reclaimed yet: it counts as absent. Replace exactly that
            # version, so a writer who got in meanwhile still wins.
            try:
                return str(
                    self._container.replace_item(
                        doc["id"],
                        doc,
                        etag=current["_etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )["_etag"]
                )
            except CosmosHttpResponseError as exc:
                if _status(exc) not in (404, 412):
                    raise
        raise Conflict(key, f"if_absent: the item kept changing over {RACE_ATTEMPTS} attempts")

    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        item_id, pk = key_to_id(key), rules.partition_of(key)
        with self._errors("delete"):
            if condition.if_match is not None:
                try:
                    self._container.delete_item(
                        item_id,
                        pk,
                        etag=condition.if_match,
                        match_condition=MatchConditions.IfNotModified,
                    )
                except CosmosHttpResponseError as exc:
                    if _status(exc) == 404:
                        raise Conflict(
                            key, "if_match: the key does not exist", None, current_reported=True
                        ) from None
                    if _status(exc) == 412:
                        raise Conflict(
                            key, "if_match: the etag no longer matches (the item changed)"
                        ) from None
                    raise
                return True
            # Whether a *live* item was deleted needs its expiry: read, then delete
            # exactly that version (a delete response carries no body).
            for _ in range(RACE_ATTEMPTS):
                current = self._read(key)
                if current is None or _expired(current, now):
                    return False
                try:
                    self._container.delete_item(
                        item_id,
                        pk,
                        etag=current["_etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
                    return True
                except CosmosHttpResponseError as exc:
                    if _status(exc) == 404:
                        return False
                    if _status(exc) != 412:
                        raise
            raise Conflict(key, f"delete: the item kept changing over {RACE_ATTEMPTS} attempts")

    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        item_id, pk = key_to_id(key), rules.partition_of(key)
        with self._errors("increment"):
            for _ in range(RACE_ATTEMPTS):
                # One round trip when the counter exists: the service adds, unless the
                # item is not a live integer (then the predicate fails with 412).
                try:
                    doc = self._container.patch_item(
                        item_id,
                        pk,
                        [{"op": "incr", "path": "/n", "value": by}],
                        filter_predicate=live_counter_filter(now),
                    )
                    return int(doc["n"])
                except CosmosHttpResponseError as exc:
                    if _status(exc) not in (404, 412):
                        raise
                    missing = _status(exc) == 404
                fresh = {
                    "id": item_id,
                    "pk": pk,
                    "key": key,
                    "v": None,
                    "n": by,
                    "exp": None,
                    "ttl": -1,
                }
                if missing:
                    try:
                        self._container.create_item(fresh)
                        return by
                    except CosmosHttpResponseError as exc:
                        if _status(exc) != 409:
                            raise
                        continue  # created meanwhile: add to it
                current = self._read(key)
                if current is None:
                    continue
                if not _expired(current, now):
                    if current.get("n") is None:
                        raise InvalidValue(
                            key,
                            "increment needs an integer value (within +-2**53 on cosmos); "
                            "the stored value is not one",
                        )
                    continue  # it became a counter meanwhile
                # Expired, not reclaimed: a counter restarts from 0 without a TTL.
                try:
                    self._container.replace_item(
                        item_id,
                        fresh,
                        etag=current["_etag"],
                        match_condition=MatchConditions.IfNotModified,
                    )
                    return by
                except CosmosHttpResponseError as exc:
                    if _status(exc) not in (404, 412):
                        raise
        raise Conflict(key, f"increment: the item kept changing over {RACE_ATTEMPTS} attempts")

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> dict[str, StatekitError | str]:
        outcome: dict[str, StatekitError | str] = {}
        for chunk in self._chunks([self._doc(op, now) for op in ops]):
            try:
                with self._errors("put_many"):
                    if len(chunk) == 1:
                        etags = [str(self._container.upsert_item(chunk[0])["_etag"])]
                    else:
                        results = self._batch([("upsert", (doc,)) for doc in chunk], chunk[0]["pk"])
                        etags = [_result_etag(result) for result in results]
            except StatekitError as error:
                for doc in chunk:
                    outcome[doc["key"]] = error
                continue
            for doc, etag in zip(chunk, etags, strict=True):  # the service's own _etag
                outcome[doc["key"]] = etag
        return outcome

    @staticmethod
    def _chunks(docs: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
        """Same-partition groups within a transactional batch's limits, in input order."""
        by_partition: dict[str, list[dict[str, Any]]] = {}
        for doc in docs:
            by_partition.setdefault(doc["pk"], []).append(doc)
        for group in by_partition.values():
            chunk: list[dict[str, Any]] = []
            size = 0
            for doc in group:
                doc_size = len(doc["v"] or "") * 4 + 1024  # UTF-8 upper bound, plus fields
                if chunk and (len(chunk) == MAX_BATCH_OPS or size + doc_size > MAX_BATCH_BYTES):
                    yield chunk
                    chunk, size = [], 0
                chunk.append(doc)
                size += doc_size
            if chunk:
                yield chunk

    def _batch(self, operations: list[Any], pk: str) -> list[dict[str, Any]]:
        return list(self._container.execute_item_batch(operations, partition_key=pk))

    def delete_many(self, keys: Sequence[str], now: float) -> dict[str, StatekitError]:
        # Point deletes, a few in flight: a transactional batch would abort on a missing id.
        def remove(key: str) -> StatekitError | None:
            try:
                with self._errors("delete_many"):
                    try:
                        self._container.delete_item(key_to_id(key), rules.partition_of(key))
                    except CosmosHttpResponseError as exc:
                        if _status(exc) != 404:
                            raise
            except StatekitError as error:
                return error
            return None

        with ThreadPoolExecutor(min(DELETE_MANY_CONCURRENCY, len(keys))) as pool:
            outcomes = list(pool.map(remove, keys))
        return {key: error for key, error in zip(keys, outcomes, strict=True) if error is not None}

    def transact(self, ops: Sequence[PreparedOp], now: float) -> list[str | None]:
        return _Transaction(self, ops, now).run()

    def list(self, prefix: str, after: str | None, limit: int, now: float) -> list[Item]:
        pk = rules.partition_of(prefix)
        # The partition is in the WHERE clause (and in partition_key=), so this is a
        # single-partition query served by the range index, never a cross-partition scan.
        where = "c.pk = @pk AND STARTSWITH(c.key, @prefix)"
        parameters: list[dict[str, Any]] = [
            {"name": "@limit", "value": limit},
            {"name": "@pk", "value": pk},
            {"name": "@prefix", "value": prefix},
            {"name": "@now", "value": now},
        ]
        if after is not None and after >= prefix:
            where += " AND c.key > @after"
            parameters.append({"name": "@after", "value": after})
        query = (
            f"SELECT TOP @limit * FROM c WHERE {where} AND "
            "(IS_NULL(c.exp) OR c.exp > @now) ORDER BY c.key"
        )
        with self._errors("list"):
            docs = list(self._container.query_items(query, parameters=parameters, partition_key=pk))
        return [_item(doc) for doc in docs[:limit]]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class _Transaction:
    """One transactional batch for ``transact``, adjusted and re-sent when a failed
    operation turns out to be harmless (a delete of a missing key, a create over an
    expired item). Each prepared op becomes a *slot* of one or two batch operations."""

    def __init__(self, store: CosmosStore, ops: Sequence[PreparedOp], now: float) -> None:
        self.store = store
        self.ops = list(ops)
        self.now = now
        self.pk = rules.partition_of(self._key(self.ops[0]))
        self.slots: list[list[Any]] = [self._initial(op) for op in self.ops]

    @staticmethod
    def _key(op: PreparedOp) -> str:
        return op.item.key if isinstance(op, PreparedPut) else op.key

    def _initial(self, op: PreparedOp) -> list[Any]:
        live = live_filter(self.now)
        if isinstance(op, PreparedPut):
            doc = self.store._doc(op, self.now)
            if op.condition.if_match is not None:
                return [
                    (
                        "patch",
                        (doc["id"], CosmosStore._set_ops(doc)),
                        {"filter_predicate": live, "if_match_etag": op.condition.if_match},
                    )
                ]
            if op.condition.if_absent:
                return [("create", (doc,))]
            return [("upsert", (doc,))]
        item_id = key_to_id(op.key)
        if isinstance(op, PreparedDelete):
            if op.condition.if_match is not None:
                return [("delete", (item_id,), {"if_match_etag": op.condition.if_match})]
            return [("delete", (item_id,))]
        # A check. Cosmos DB has no condition-only batch operation: "unchanged" is a
        # patch under If-Match and the live filter (it gives the item a new etag);
        # "absent" is a create that the same batch deletes again (it leaves nothing).
        if op.condition.if_match is not None:
            return [
                (
                    "patch",
                    (item_id, [{"op": "set", "path": "/checked", "value": True}]),
                    {"filter_predicate": live, "if_match_etag": op.condition.if_match},
                )
            ]
        stub = {
            "id": item_id,
            "pk": self.pk,
            "key": op.key,
            "v": "null",
            "n": None,
            "exp": None,
            "ttl": -1,
        }
        return [("create", (stub,)), ("delete", (item_id,))]

    def run(self) -> list[str | None]:
        with self.store._errors("transact"):
            for _ in range(RACE_ATTEMPTS):
                operations = [operation for slot in self.slots for operation in slot]
                if len(operations) > MAX_BATCH_OPS:
                    raise InvalidTransaction(
                        f"this transaction needs {len(operations)} batch operations on cosmos "
                        f"(a Check with if_absent takes two); the limit is {MAX_BATCH_OPS}"
                    )
                owners = [index for index, slot in enumerate(self.slots) for _ in slot]
                try:
                    results = self.store._batch(operations, self.pk)
                except CosmosBatchOperationError as exc:
                    index = int(exc.error_index or 0)
                    response = exc.operation_responses[index] if exc.operation_responses else {}
                    status = int(response.get("statusCode") or exc.status_code or 0)
                    self._adjust(owners[index], status, exc)
                    continue
                return self._etags(results)
        raise Conflict(
            self._key(self.ops[0]),
            f"transaction: items kept changing over {RACE_ATTEMPTS} attempts",
        )

    def _adjust(self, owner: int, status: int, exc: CosmosBatchOperationError) -> None:
        """Change the slot of the op that failed so the batch can be re-sent, or raise."""
        op = self.ops[owner]
        key = self._key(op)
        cond = op.condition
        if isinstance(op, PreparedDelete) and not cond.is_conditional and status == 404:
            self.slots[owner] = []  # deleting a missing key is a no-op
            return
        if status == 409 and cond.if_absent:
            current = self.store._read(key)
            if current is not None and not _expired(current, self.now):
                raise Conflict(key, "if_absent: the key already exists", _item(current))
            if current is not None:
                # Expired, not reclaimed: absent. Overwrite exactly that version.
                match = {"if_match_etag": current["_etag"]}
                item_id = current["id"]
                if isinstance(op, PreparedPut):
                    doc = self.store._doc(op, self.now)
                    self.slots[owner] = [("replace", (item_id, doc), match)]
                else:
                    self.slots[owner] = [("delete", (item_id,), match)]
            return  # gone meanwhile: re-send as it was
        if status in (404, 412) and cond.is_conditional:
            rule = "the key does not exist" if status == 404 else "the item changed or expired"
            which = "if_absent" if cond.if_absent else "if_match"
            raise Conflict(key, f"{which}: {rule}", None, current_reported=status == 404)
        raise exc

    def _etags(self, results: list[dict[str, Any]]) -> list[str | None]:
        etags: list[str | None] = []
        position = 0
        for op, slot in zip(self.ops, self.slots, strict=True):
            etags.append(_result_etag(results[position]) if isinstance(op, PreparedPut) else None)
            position += len(slot)
        return etags
