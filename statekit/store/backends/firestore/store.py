"""Google Cloud Firestore (native mode) store backend, through google-cloud-firestore.

URL: ``firestore://PROJECT/DATABASE/COLLECTION`` (DATABASE may be ``(default)``).
Credentials come from Application Default Credentials; an emulator is reached
through the SDK's own ``FIRESTORE_EMULATOR_HOST``.

The document layout and the etag are in firestore_documents.py.

Optimistic concurrency in one round trip: an item's etag is its ``update_time``
(plus the token and the expiry the item had, see ``Etag``), and a conditional
write is a single Commit whose write carries the precondition
``update_time == <etag's>``: the service checks it atomically with the write.
Because the etag also carries the item's expiry, ``if_match`` on an item that
has expired since (Firestore deletes expired documents lazily, within about a
day) is refused without a call: an unchanged document still has that expiry.

``transact`` is one atomic Commit of writes with preconditions (create for
``if_absent``, ``update_time`` for ``if_match``, an unchanged rewrite of the
token for a ``Check``): no reads are needed, so no transaction round trips.
``increment`` reads the item and commits an ``Increment`` transform under an
``update_time`` precondition (two round trips): Firestore cannot make a write
conditional on a field's type, and an increment must not turn a text value
into a counter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore
from google.cloud.firestore_v1 import _helpers
from google.cloud.firestore_v1.base_query import FieldFilter
from google.protobuf.timestamp_pb2 import Timestamp

from statekit.errors import BackendUnavailable, Conflict, InvalidValue, StatekitError
from statekit.store import rules
from statekit.store.backend import (
    KEY_EXISTS,
    PreparedOp,
    PreparedPut,
    StoreBackend,
    WriteCondition,
)
from statekit.store.backends.firestore.client import (
    CONDITION_FAILED,
    RACE_ATTEMPTS,
    RETRY,
    RPC_TIMEOUT,
    UNAVAILABLE,
    QuickReconnectClient,
)
from statekit.store.backends.firestore.documents import (
    INT64,
    MAX_WRITES_PER_COMMIT,
    Etag,
    commit_chunks,
    counter_fields,
    doc_id,
    document_fields,
    is_expired,
    value_of,
)
from statekit.store.backends.firestore.transaction import FirestoreTransaction
from statekit.store.types import ALL_CAPABILITIES, Item, Limits
from statekit.urls import ConnectionURL

MAX_GET_ALL = 500
INCREMENT_ATTEMPTS = 64  # increments under contention retry more, with jittered backoff


class FirestoreStore(StoreBackend):
    name = "firestore"
    capabilities = ALL_CAPABILITIES
    limits = Limits(
        max_value_bytes=1_000_000,
        max_transaction_ops=MAX_WRITES_PER_COMMIT,
        batch_read_chunk=MAX_GET_ALL,
        batch_write_chunk=MAX_WRITES_PER_COMMIT,
        max_counter=2**63 - 1,  # Firestore integers are 64-bit signed
        ttl_precision="exact (float seconds, filtered on read); the TTL policy deletes within ~24 h",
        consistency="strong",
        notes=(
            "documents up to 1 MiB; a Commit carries up to 500 writes and 10 MiB; increment "
            "is a read plus a conditional commit (2 round trips); listing needs the composite "
            "index (pk ASC, key ASC)"
        ),
    )

    def __init__(self, client: firestore.Client, collection: str) -> None:
        self._client = client
        self._collection = client.collection(collection)

    @classmethod
    def from_url(cls, url: ConnectionURL) -> FirestoreStore:
        url.require_known_params(())
        parts = url.path_parts()
        if not url.host or len(parts) != 2 or not all(parts):
            raise url.error(
                "expected firestore://PROJECT/DATABASE/COLLECTION "
                "(e.g. firestore://my-project/(default)/state)"
            )
        database, collection = parts
        if "/" in collection:
            raise url.error("COLLECTION must be a top-level collection id (no '/')")
        try:
            client = QuickReconnectClient(project=url.host, database=database)
        except Exception as exc:  # no credentials found, bad project: say which
            raise BackendUnavailable(cls.name, f"create a client for {url.raw}", exc) from None
        return cls(client, collection)

    # -- plumbing ------------------------------------------------------------------------
    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        """Turn every SDK error left unhandled into statekit's (none escapes)."""
        try:
            yield
        except StatekitError:
            raise
        except UNAVAILABLE as exc:
            raise BackendUnavailable(self.name, operation, exc) from None
        except gexc.GoogleAPIError as exc:
            raise StatekitError(f"firestore refused {operation}: {exc}") from None

    def _ref(self, key: str) -> Any:
        return self._collection.document(doc_id(key))

    def _read(self, key: str) -> tuple[dict[str, Any], Any] | None:
        """The stored fields (expired or not) and the update_time; ``None`` if missing."""
        snapshot = self._ref(key).get(retry=RETRY, timeout=RPC_TIMEOUT)
        if not snapshot.exists:
            return None
        return snapshot.to_dict() or {}, snapshot.update_time

    @staticmethod
    def _item(fields: dict[str, Any], update_time: Any) -> Item:
        expiry = fields.get("exp")
        etag = Etag.of(update_time, str(fields.get("etag", "")), expiry).text()
        return Item(fields["key"], value_of(fields), etag, expiry)

    def _commit(self, writes: list[Any]) -> list[Any]:
        batch = self._client.batch()
        batch._add_write_pbs(writes)
        return list(batch.commit(retry=RETRY, timeout=RPC_TIMEOUT))

    @staticmethod
    def _precondition(
        write: Any, *, update_time: Timestamp | None = None, exists: bool | None = None
    ) -> Any:
        if update_time is not None:
            _helpers.LastUpdateOption(update_time).modify_write(write)
        elif exists is not None:
            _helpers.ExistsOption(exists).modify_write(write)
        return write

    def _set_write(
        self, key: str, data: dict[str, Any], update_time: Timestamp | None = None
    ) -> Any:
        write = _helpers.pbs_for_set_no_merge(self._ref(key)._document_path, data)[0]
        return self._precondition(write, update_time=update_time)

    def _create_write(self, key: str, data: dict[str, Any]) -> Any:
        return _helpers.pbs_for_create(self._ref(key)._document_path, data)[0]

    def _delete_write(
        self, key: str, *, update_time: Timestamp | None = None, exists: bool | None = None
    ) -> Any:
        write = _helpers.pb_for_delete(self._ref(key)._document_path, None)
        return self._precondition(write, update_time=update_time, exists=exists)

    def _update_write(self, key: str, fields: dict[str, Any], update_time: Timestamp) -> Any:
        option = _helpers.LastUpdateOption(update_time)
        return _helpers.pbs_for_update(self._ref(key)._document_path, fields, option)[0]

    @staticmethod
    def _usable_etag(key: str, if_match: str, now: float) -> Etag:
        """The etag to check, or ``Conflict`` now if no live item can have it."""
        etag = Etag.parse(if_match)
        if etag is None:
            raise Conflict(
                key, "if_match: the etag no longer matches (it is not one of this store's)"
            )
        if rules.is_expired(etag.expires_at, now):
            # Unchanged since this etag means expired now; changed means a mismatch.
            raise Conflict(key, "if_match: the item expired or changed")
        return etag

    # -- hooks ---------------------------------------------------------------------------
    def get(self, key: str, now: float) -> Item | None:
        with self._errors(f"get of key {key!r}"):
            found = self._read(key)
        if found is None or is_expired(found[0], now):
            return None
        return self._item(*found)

    def get_many(self, keys: Sequence[str], now: float) -> dict[str, Item]:
        items: dict[str, Item] = {}
        with self._errors("get_many"):
            for start in range(0, len(keys), MAX_GET_ALL):
                refs = [self._ref(key) for key in keys[start : start + MAX_GET_ALL]]
                for snapshot in self._client.get_all(refs, retry=RETRY, timeout=RPC_TIMEOUT):
                    fields = snapshot.to_dict() if snapshot.exists else None
                    if fields is not None and not is_expired(fields, now):
                        item = self._item(fields, snapshot.update_time)
                        items[item.key] = item
        return items

    def put(self, op: PreparedPut, now: float) -> str:
        key, condition = op.item.key, op.condition
        data = document_fields(op)
        with self._errors(f"put of key {op.item.key!r}"):
            if condition.if_match is not None:
                etag = self._usable_etag(key, condition.if_match, now)
                try:
                    result = self._commit([self._set_write(key, data, etag.timestamp())])[0]
                except CONDITION_FAILED:
                    raise Conflict(key, "if_match: the item changed, expired or is gone") from None
            elif condition.if_absent:
                result = self._put_if_absent(key, data, now)
            else:
                result = self._commit([self._set_write(key, data)])[0]
        return Etag.of(result.update_time, data["etag"], op.item.expires_at).text()

    def _put_if_absent(self, key: str, data: dict[str, Any], now: float) -> Any:
        for _ in range(RACE_ATTEMPTS):
            try:
                return self._commit([self._create_write(key, data)])[0]
            except gexc.AlreadyExists:
                pass
            found = self._read(key)
            if found is None:
                continue  # deleted since the create: try again
            fields, update_time = found
            if not is_expired(fields, now):
                raise Conflict(key, KEY_EXISTS, self._item(fields, update_time))
            # Expired, not deleted yet: absent. Replace exactly that version.
            stamp = Etag.of(update_time, "", None).timestamp()
            try:
                return self._commit([self._set_write(key, data, stamp)])[0]
            except CONDITION_FAILED:
                continue
        raise Conflict(key, f"if_absent: the item kept changing over {RACE_ATTEMPTS} attempts")

    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        with self._errors(f"delete of key {key!r}"):
            if condition.if_match is not None:
                etag = self._usable_etag(key, condition.if_match, now)
                try:
                    self._commit([self._delete_write(key, update_time=etag.timestamp())])
                except CONDITION_FAILED:
                    raise Conflict(key, "if_match: the item changed, expired or is gone") from None
                return True
            # Whether a *live* item was deleted needs its expiry: read, then delete
            # exactly that version (a delete's result says nothing about what it removed).
            for _ in range(RACE_ATTEMPTS):
                found = self._read(key)
                if found is None or is_expired(found[0], now):
                    return False
                stamp = Etag.of(found[1], "", None).timestamp()
                try:
                    self._commit([self._delete_write(key, update_time=stamp)])
                    return True
                except CONDITION_FAILED:
                    continue
            raise Conflict(key, f"delete: the item kept changing over {RACE_ATTEMPTS} attempts")

    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        with self._errors(f"increment of key {key!r}"):
            for attempt in range(INCREMENT_ATTEMPTS):
                found = self._read(key)
                try:
                    if found is None:
                        self._commit([self._create_write(key, counter_fields(key, by, etag))])
                        return by
                    fields, update_time = found
                    stamp = Etag.of(update_time, "", None).timestamp()
                    if is_expired(fields, now):  # a counter restarts from 0, without a TTL
                        self._commit([self._set_write(key, counter_fields(key, by, etag), stamp)])
                        return by
                    current = fields.get("n")
                    if fields.get("v") is not None or type(current) is not int:
                        raise InvalidValue(
                            key, "increment needs an integer value; the stored value is not one"
                        )
                    if not -INT64 <= current + by < INT64:
                        raise InvalidValue(
                            key,
                            f"increment: {current} + {by} is beyond firestore's 64-bit "
                            "integers; the value is unchanged",
                        )
                    change = {"etag": etag, "n": firestore.Increment(by)}
                    self._commit([self._update_write(key, change, stamp)])
                    # The precondition held, so nothing changed between the read and the add.
                    return int(current) + by
                except (gexc.AlreadyExists, *CONDITION_FAILED):
                    time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
        raise Conflict(key, f"increment: the item kept changing over {INCREMENT_ATTEMPTS} attempts")

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> dict[str, StatekitError | str]:
        outcome: dict[str, StatekitError | str] = {}
        for chunk in commit_chunks(list(ops)):
            try:
                with self._errors("put_many"):
                    datas = [document_fields(op) for op in chunk]
                    results = self._commit(
                        [
                            self._set_write(op.item.key, data)
                            for op, data in zip(chunk, datas, strict=True)
                        ]
                    )
            except StatekitError as error:
                for op in chunk:
                    outcome[op.item.key] = error
                continue
            # The etag is the service's update_time of each write (as put returns it).
            for op, data, result in zip(chunk, datas, results, strict=True):
                outcome[op.item.key] = Etag.of(
                    result.update_time, data["etag"], op.item.expires_at
                ).text()
        return outcome

    def delete_many(self, keys: Sequence[str], now: float) -> dict[str, StatekitError]:
        failed: dict[str, StatekitError] = {}
        for start in range(0, len(keys), MAX_WRITES_PER_COMMIT):
            chunk = keys[start : start + MAX_WRITES_PER_COMMIT]
            try:
                with self._errors("delete_many"):
                    self._commit([self._delete_write(key) for key in chunk])
            except StatekitError as error:
                for key in chunk:
                    failed[key] = error
        return failed

    def transact(self, ops: Sequence[PreparedOp], now: float) -> list[str | None]:
        return FirestoreTransaction(self, ops, now).run()

    def list(self, prefix: str, after: str | None, limit: int, now: float) -> list[Item]:
        upper = rules.prefix_upper_bound(prefix)
        items: list[Item] = []
        start, inclusive = (
            (after, False) if after is not None and after >= prefix else (prefix, True)
        )
        with self._errors(f"list of prefix {prefix!r}"):
            while len(items) < limit:
                # A range query on stored fields, within one partition; needs the composite
                # index (pk ASC, key ASC). Expired documents are skipped here, so ask again
                # after the last one seen until the page is full or the range is done.
                query = self._collection.where(
                    filter=FieldFilter("pk", "==", rules.partition_of(prefix))
                ).where(filter=FieldFilter("key", ">=" if inclusive else ">", start))
                if upper is not None:
                    query = query.where(filter=FieldFilter("key", "<", upper))
                want = limit - len(items)
                snapshots = list(
                    query.order_by("key").limit(want).stream(retry=RETRY, timeout=RPC_TIMEOUT)
                )
                for snapshot in snapshots:
                    fields = snapshot.to_dict() or {}
                    if not str(fields.get("key", "")).startswith(prefix):
                        return items
                    if not is_expired(fields, now):
                        items.append(self._item(fields, snapshot.update_time))
                if len(snapshots) < want:
                    break
                start, inclusive = str(snapshots[-1].get("key")), False
        return items

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]
