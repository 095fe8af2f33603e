"""Azure Cosmos DB (NoSQL API) store backend, through azure-cosmos.

URL: ``cosmos://ACCOUNT_HOST/DATABASE/CONTAINER[?endpoint=URL]``. The container's
partition key path is ``/pk`` and holds the key's partition, so a transaction
(one transactional batch) and a listing (one single-partition query) stay in
one logical partition. The container's default TTL must be on (``-1``: items
never expire unless they say so); the IaC sets it.

The item layout is in documents.py; ``transact`` in transaction.py.

Credentials: ``DefaultAzureCredential`` (managed identity in Azure). Only for
an emulator on a loopback ``endpoint=`` is an account key used: the one in
``$STATEKIT_COSMOS_KEY``, or the emulator's published well-known key. A key is
never read from the URL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import AzureError, HttpResponseError
from azure.cosmos import ContainerProxy, CosmosClient
from azure.cosmos.exceptions import CosmosHttpResponseError

from statekit.errors import (
    BackendUnavailable,
    Conflict,
    InvalidValue,
    StatekitError,
)
from statekit.store import rules
from statekit.store.backend import (
    ETAG_CHANGED,
    KEY_EXISTS,
    KEY_MISSING,
    PreparedOp,
    PreparedPut,
    StoreBackend,
    WriteCondition,
)
from statekit.store.backends.cosmos.client import CLIENT_OPTIONS, connect
from statekit.store.backends.cosmos.documents import (
    MAX_BATCH_BYTES,
    MAX_BATCH_OPS,
    MAX_EXACT_INTEGER,
    RACE_ATTEMPTS,
    document,
    is_expired,
    item_of,
    live_counter_filter,
    live_filter,
    result_etag,
    set_ops,
    status_of,
)
from statekit.store.backends.cosmos.ids import key_to_id
from statekit.store.backends.cosmos.transaction import CosmosTransaction
from statekit.store.types import ALL_CAPABILITIES, Item, Limits
from statekit.urls import ConnectionURL

# benchmarks/store_targets/cosmos.py imports the client options and filters from here.
__all__ = ["CLIENT_OPTIONS", "CosmosStore", "live_counter_filter", "live_filter"]

DELETE_MANY_CONCURRENCY = 8

# @vercel/cosmosdb-server 1.0.1 answers a point read of a missing item with HTTP 500
# and the JavaScript TypeError it hit (reading our partition key path of an undefined
# document) instead of 404. The real service answers 404, and a real 500 never carries
# this text, so a genuine server error still surfaces as BackendUnavailable.
_EMULATOR_MISSING_ITEM = "Cannot read properties of undefined (reading 'pk')"


class CosmosStore(StoreBackend):
    name = "cosmos"
    capabilities = ALL_CAPABILITIES
    limits = Limits(
        max_value_bytes=1_900_000,
        max_transaction_ops=MAX_BATCH_OPS,
        batch_read_chunk=1000,
        batch_write_chunk=MAX_BATCH_OPS,
        max_counter=MAX_EXACT_INTEGER - 1,  # JSON numbers are doubles
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
        proxy, client = connect(url, cls.name)
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

    def _read(self, key: str) -> dict[str, Any] | None:
        """The stored document, expired or not; ``None`` if there is none."""
        try:
            return dict(self._container.read_item(key_to_id(key), rules.partition_of(key)))
        except CosmosHttpResponseError as exc:
            if status_of(exc) == 404 or (
                status_of(exc) == 500 and _EMULATOR_MISSING_ITEM in str(exc.message)
            ):
                return None
            raise

    # -- hooks ---------------------------------------------------------------------------
    def get(self, key: str, now: float) -> Item | None:
        with self._errors(f"get of key {key!r}"):
            doc = self._read(key)
        return None if doc is None or is_expired(doc, now) else item_of(doc)

    def get_many(self, keys: Sequence[str], now: float) -> dict[str, Item]:
        wanted = [(key_to_id(key), rules.partition_of(key)) for key in keys]
        with self._errors("get_many"):
            docs = list(self._container.read_items(wanted))
        return {doc["key"]: item_of(doc) for doc in docs if not is_expired(doc, now)}

    def put(self, op: PreparedPut, now: float) -> str:
        doc = document(op, now)
        condition = op.condition
        with self._errors(f"put of key {op.item.key!r}"):
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
                set_ops(doc),
                filter_predicate=live_filter(now),
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except CosmosHttpResponseError as exc:
            if status_of(exc) == 404:
                raise Conflict(key, KEY_MISSING, None, current_reported=True) from None
            if status_of(exc) == 412:
                raise Conflict(key, "if_match: the item changed or expired") from None
            raise
        return str(written["_etag"])

    def _put_if_absent(self, key: str, doc: dict[str, Any], now: float) -> str:
        for _ in range(RACE_ATTEMPTS):
            try:
                return str(self._container.create_item(doc)["_etag"])
            except CosmosHttpResponseError as exc:
                if status_of(exc) != 409:
                    raise
            current = self._read(key)
            if current is None:
                continue  # deleted since the create: try again
            if not is_expired(current, now):
                raise Conflict(key, KEY_EXISTS, item_of(current))
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
                if status_of(exc) not in (404, 412):
                    raise
        raise Conflict(key, f"if_absent: the item kept changing over {RACE_ATTEMPTS} attempts")

    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        item_id, pk = key_to_id(key), rules.partition_of(key)
        with self._errors(f"delete of key {key!r}"):
            if condition.if_match is not None:
                try:
                    self._container.delete_item(
                        item_id,
                        pk,
                        etag=condition.if_match,
                        match_condition=MatchConditions.IfNotModified,
                    )
                except CosmosHttpResponseError as exc:
                    if status_of(exc) == 404:
                        raise Conflict(key, KEY_MISSING, None, current_reported=True) from None
                    if status_of(exc) == 412:
                        raise Conflict(key, ETAG_CHANGED) from None
                    raise
                return True
            # Whether a *live* item was deleted needs its expiry: read, then delete
            # exactly that version (a delete response carries no body).
            for _ in range(RACE_ATTEMPTS):
                current = self._read(key)
                if current is None or is_expired(current, now):
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
                    if status_of(exc) == 404:
                        return False
                    if status_of(exc) != 412:
                        raise
            raise Conflict(key, f"delete: the item kept changing over {RACE_ATTEMPTS} attempts")

    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        item_id, pk = key_to_id(key), rules.partition_of(key)
        with self._errors(f"increment of key {key!r}"):
            for _ in range(RACE_ATTEMPTS):
                # One round trip when the counter exists: the service adds, unless the
                # item is not a live integer (then the predicate fails with 412).
                try:
                    doc = self._container.patch_item(
                        item_id,
                        pk,
                        [{"op": "incr", "path": "/n", "value": by}],
                        filter_predicate=live_counter_filter(now, by),
                    )
                    return int(doc["n"])
                except CosmosHttpResponseError as exc:
                    if status_of(exc) not in (404, 412):
                        raise
                    missing = status_of(exc) == 404
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
                        if status_of(exc) != 409:
                            raise
                        continue  # created meanwhile: add to it
                current = self._read(key)
                if current is None:
                    continue
                if not is_expired(current, now):
                    if current.get("n") is None:
                        raise InvalidValue(
                            key,
                            "increment needs an integer value (within +-2**53 on cosmos); "
                            "the stored value is not one",
                        )
                    if abs(int(current["n"]) + by) >= MAX_EXACT_INTEGER:
                        raise InvalidValue(
                            key,
                            f"increment: {current['n']} + {by} is beyond +-(2**53-1), what "
                            "cosmos counts exactly; the value is unchanged",
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
                    if status_of(exc) not in (404, 412):
                        raise
        raise Conflict(key, f"increment: the item kept changing over {RACE_ATTEMPTS} attempts")

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> dict[str, StatekitError | str]:
        outcome: dict[str, StatekitError | str] = {}
        for chunk in self._chunks([document(op, now) for op in ops]):
            try:
                with self._errors("put_many"):
                    if len(chunk) == 1:
                        etags = [str(self._container.upsert_item(chunk[0])["_etag"])]
                    else:
                        results = self._batch([("upsert", (doc,)) for doc in chunk], chunk[0]["pk"])
                        etags = [result_etag(result) for result in results]
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
                        if status_of(exc) != 404:
                            raise
            except StatekitError as error:
                return error
            return None

        with ThreadPoolExecutor(min(DELETE_MANY_CONCURRENCY, len(keys))) as pool:
            outcomes = list(pool.map(remove, keys))
        return {key: error for key, error in zip(keys, outcomes, strict=True) if error is not None}

    def transact(self, ops: Sequence[PreparedOp], now: float) -> list[str | None]:
        return CosmosTransaction(self, ops, now).run()

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
        with self._errors(f"list of prefix {prefix!r}"):
            docs = list(self._container.query_items(query, parameters=parameters, partition_key=pk))
        return [item_of(doc) for doc in docs[:limit]]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
