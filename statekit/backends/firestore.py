"""Google Cloud Firestore (native mode) store backend, through google-cloud-firestore.

URL: ``firestore://PROJECT/DATABASE/COLLECTION`` (DATABASE may be ``(default)``).
Credentials come from Application Default Credentials; an emulator is reached
through the SDK's own ``FIRESTORE_EMULATOR_HOST``.

One document per key in the collection, its id the key with '/' escaped
(``_doc_id``), and these fields::

    pk    the key's partition          key   the key itself
    v     the value as JSON text,  or  n     the value as a native integer (int64)
    etag  a fresh random token per write (so every write changes the document)
    exp   exact expiry, epoch seconds (float), null without a TTL
    expires_at_epoch   the expiry as a Timestamp, for the native TTL policy (or null)

Every field is always written (null where unused), so each write replaces all.

Optimistic concurrency in one round trip: an item's etag is its ``update_time``
(plus the token and the expiry the item had, see ``_Etag``), and a conditional
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

import math
import random
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry, if_exception_type
from google.cloud import firestore
from google.cloud.firestore_v1 import _helpers
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.services.firestore import client as gapic_module
from google.cloud.firestore_v1.services.firestore.transports.grpc import FirestoreGrpcTransport
from google.protobuf.timestamp_pb2 import Timestamp

from statekit import rules
from statekit.backends.base import (
    PreparedDelete,
    PreparedOp,
    PreparedPut,
    StoreBackend,
    WriteCondition,
)
from statekit.errors import BackendUnavailable, Conflict, InvalidValue, StatekitError
from statekit.store import ALL_CAPABILITIES, Item, Limits
from statekit.urls import ConnectionURL

TTL_FIELD = "expires_at_epoch"  # modules/common/settings.py TTL_ATTRIBUTE: the TTL policy's field
MAX_WRITES_PER_COMMIT = 500
MAX_COMMIT_BYTES = 9_000_000  # a Commit request is at most 10 MiB
MAX_GET_ALL = 500
INT64 = 2**63
RACE_ATTEMPTS = 8  # a write that lost a race is retried on a fresh read this many times
INCREMENT_ATTEMPTS = 64  # increments under contention retry more, with jittered backoff
RPC_TIMEOUT = 5.0
# Bounded retries of what the service reports as transient, so a stopped server
# is BackendUnavailable within seconds; a lost commit response is not retried.
RETRY = Retry(
    predicate=if_exception_type(gexc.ServiceUnavailable, gexc.ResourceExhausted),
    initial=0.1,
    maximum=1.0,
    multiplier=2.0,
    timeout=6.0,
)
_UNAVAILABLE = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.RetryError,
    gexc.InternalServerError,
    gexc.ResourceExhausted,
    gexc.Unknown,
)
_CONDITION_FAILED = (gexc.FailedPrecondition, gexc.NotFound, gexc.Aborted)
_INTEGER = re.compile(r"-?[0-9]+")


# gRPC backs a channel that failed to connect off for up to two minutes (and channels
# to one address share that state), so after an outage a function would keep failing
# long after the service is back. These bound the wait for a reconnect to ~2 s.
RECONNECT_OPTIONS: list[tuple[str, int]] = [
    ("grpc.initial_reconnect_backoff_ms", 250),
    ("grpc.min_reconnect_backoff_ms", 250),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


class _QuickReconnectTransport(FirestoreGrpcTransport):
    @classmethod
    def create_channel(cls, *args: Any, **kwargs: Any) -> Any:
        kwargs["options"] = [*kwargs.get("options", ()), *RECONNECT_OPTIONS]
        return super().create_channel(*args, **kwargs)


class QuickReconnectClient(firestore.Client):
    """``firestore.Client`` whose gRPC channel reconnects within seconds of an outage.

    The SDK takes no channel options, so this overrides the two hooks where
    google-cloud-firestore (2.34) makes its channel: the transport for the service,
    and ``_emulator_channel`` for ``FIRESTORE_EMULATOR_HOST``. Should a later SDK
    rename them, the overrides go unused and only the reconnect time reverts.
    """

    @property
    def _firestore_api(self) -> Any:
        helper = getattr(self, "_firestore_api_helper", None)
        if helper is None:  # a later SDK: its own channel, gRPC's default backoff
            return super()._firestore_api
        return helper(_QuickReconnectTransport, gapic_module.FirestoreClient, gapic_module)

    def _emulator_channel(self, transport: Any) -> Any:
        import grpc

        # What the SDK's own _emulator_channel builds (sync transport), plus ours.
        return grpc.insecure_channel(
            self._emulator_host,
            options=[
                ("Authorization", "Bearer owner"),
                ("grpc.max_send_message_length", -1),
                ("grpc.max_receive_message_length", -1),
                *RECONNECT_OPTIONS,
            ],
        )


def _doc_id(key: str) -> str:
    """A document id for ``key``: no '/', never '.', '..' or ``__x__`` (reserved).

    '~' escapes: '~t' is '~', '~s' is '/'; a leading '~p' marks an id that would
    otherwise be reserved. Reversible; the key is also stored in its own field.
    """
    escaped = key.replace("~", "~t").replace("/", "~s")
    if escaped in (".", "..") or (escaped.startswith("__") and escaped.endswith("__")):
        return "~p" + escaped
    return escaped


@dataclass(frozen=True, slots=True)
class _Etag:
    """An item's etag: its ``update_time``, its write token, and its expiry.

    ``update_time`` is what the service checks. The token makes etags distinct
    by construction, even where a clock ticks coarser than writes arrive
    (stand-ins with millisecond clocks). The expiry lets ``if_match`` refuse an
    expired item before any call.
    """

    seconds: int
    nanos: int
    token: str
    expires_at: float | None

    def text(self) -> str:
        base = f"{self.seconds}.{self.nanos:09d}.{self.token}"
        return base if self.expires_at is None else f"{base}~{self.expires_at!r}"

    @classmethod
    def parse(cls, etag: str) -> _Etag | None:
        head, _, expiry = etag.partition("~")
        parts = head.split(".", 2)
        try:
            seconds, nanos = int(parts[0]), int(parts[1])
            token = parts[2]
            expires_at = float(expiry) if expiry else None
        except (ValueError, IndexError):
            return None
        return cls(seconds, nanos, token, expires_at)

    @classmethod
    def of(cls, update_time: Any, token: str, expires_at: float | None) -> _Etag:
        stamp = update_time.timestamp_pb() if hasattr(update_time, "timestamp_pb") else update_time
        return cls(int(stamp.seconds), int(stamp.nanos), token, expires_at)

    def timestamp(self) -> Timestamp:
        return Timestamp(seconds=self.seconds, nanos=self.nanos)


def _data(op: PreparedPut) -> dict[str, Any]:
    """Every document has every field (null where unused), so a write replaces all of
    them and what a document holds never depends on its history."""
    key = op.item.key
    data: dict[str, Any] = {
        "pk": rules.partition_of(key),
        "key": key,
        "etag": op.item.etag,
        "v": op.data,
        "n": None,
        "exp": op.item.expires_at,
        TTL_FIELD: None,
    }
    if _INTEGER.fullmatch(op.data) and -INT64 <= int(op.data) < INT64:
        data["v"], data["n"] = None, int(op.data)
    if op.item.expires_at is not None:
        # The TTL policy deletes a document some time after this Timestamp; never before.
        data[TTL_FIELD] = datetime.fromtimestamp(math.ceil(op.item.expires_at), UTC)
    return data


def _counter(key: str, value: int, token: str) -> dict[str, Any]:
    return {
        "pk": rules.partition_of(key),
        "key": key,
        "etag": token,
        "v": None,
        "n": value,
        "exp": None,
        TTL_FIELD: None,
    }


def _value(fields: dict[str, Any]) -> Any:
    text = fields.get("v")
    return fields.get("n") if text is None else rules.decode_value(text)


def _expired(fields: dict[str, Any], now: float) -> bool:
    return rules.is_expired(fields.get("exp"), now)


class FirestoreStore(StoreBackend):
    name = "firestore"
    capabilities = ALL_CAPABILITIES
    limits = Limits(
        max_value_bytes=1_000_000,
        max_transaction_ops=MAX_WRITES_PER_COMMIT,
        batch_read_chunk=MAX_GET_ALL,
        batch_write_chunk=MAX_WRITES_PER_COMMIT,
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
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(self.name, operation, exc) from None
        except gexc.GoogleAPIError as exc:
            raise StatekitError(f"firestore refused {operation}: {exc}") from None

    def _ref(self, key: str) -> Any:
        return self._collection.document(_doc_id(key))

    def _read(self, key: str) -> tuple[dict[str, Any], Any] | None:
        """The stored fields (expired or not) and the update_time; ``None`` if missing."""
        snapshot = self._ref(key).get(retry=RETRY, timeout=RPC_TIMEOUT)
        if not snapshot.exists:
            return None
        return snapshot.to_dict() or {}, snapshot.update_time

    @staticmethod
    def _item(fields: dict[str, Any], update_time: Any) -> Item:
        expiry = fields.get("exp")
        etag = _Etag.of(update_time, str(fields.get("etag", "")), expiry).text()
        return Item(fields["key"], _value(fields), etag, expiry)

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
    def _usable_etag(key: str, if_match: str, now: float) -> _Etag:
        """The etag to check, or ``Conflict`` now if no live item can have it."""
        etag = _Etag.parse(if_match)
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
        with self._errors("get"):
            found = self._read(key)
        if found is None or _expired(found[0], now):
            return None
        return self._item(*found)

    def get_many(self, keys: Sequence[str], now: float) -> dict[str, Item]:
        items: dict[str, Item] = {}
        with self._errors("get_many"):
            for start in range(0, len(keys), MAX_GET_ALL):
                refs = [self._ref(key) for key in keys[start : start + MAX_GET_ALL]]
                for snapshot in self._client.get_all(refs, retry=RETRY, timeout=RPC_TIMEOUT):
                    fields = snapshot.to_dict() if snapshot.exists else None
                    if fields is not None and not _expired(fields, now):
                        item = self._item(fields, snapshot.update_time)
                        items[item.key] = item
        return items

    def put(self, op: PreparedPut, now: float) -> str:
        key, condition = op.item.key, op.condition
        data = _data(op)
        with self._errors("put"):
            if condition.if_match is not None:
                etag = self._usable_etag(key, condition.if_match, now)
                try:
                    result = self._commit([self._set_write(key, data, etag.timestamp())])[0]
                except _CONDITION_FAILED:
                    raise Conflict(key, "if_match: the item changed, expired or is gone") from None
            elif condition.if_absent:
                result = self._put_if_absent(key, data, now)
            else:
                result = self._commit([self._set_write(key, data)])[0]
        return _Etag.of(result.update_time, data["etag"], op.item.expires_at).text()

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
            if not _expired(fields, now):
                raise Conflict(
                    key, "if_absent: the key already exists", self._item(fields, update_time)
                )
            # Expired, not deleted yet: absent. Replace exactly that version.
            stamp = _Etag.of(update_time, "", None).timestamp()
            try:
                return self._commit([self._set_write(key, data, stamp)])[0]
            except _CONDITION_FAILED:
                continue
        raise Conflict(key, f"if_absent: the item kept changing over {RACE_ATTEMPTS} attempts")

    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        with self._errors("delete"):
            if condition.if_match is not None:
                etag = self._usable_etag(key, condition.if_match, now)
                try:
                    self._commit([self._delete_write(key, update_time=etag.timestamp())])
                except _CONDITION_FAILED:
                    raise Conflict(key, "if_match: the item changed, expired or is gone") from None
                return True
            # Whether a *live* item was deleted needs its expiry: read, then delete
            # exactly that version (a delete's result says nothing about what it removed).
            for _ in range(RACE_ATTEMPTS):
                found = self._read(key)
                if found is None or _expired(found[0], now):
                    return False
                stamp = _Etag.of(found[1], "", None).timestamp()
                try:
                    self._commit([self._delete_write(key, update_time=stamp)])
                    return True
                except _CONDITION_FAILED:
                    continue
            raise Conflict(key, f"delete: the item kept changing over {RACE_ATTEMPTS} attempts")

    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        with self._errors("increment"):
            for attempt in range(INCREMENT_ATTEMPTS):
                found = self._read(key)
                try:
                    if found is None:
                        self._commit([self._create_write(key, _counter(key, by, etag))])
                        return by
                    fields, update_time = found
                    stamp = _Etag.of(update_time, "", None).timestamp()
                    if _expired(fields, now):  # a counter restarts from 0, without a TTL
                        self._commit([self._set_write(key, _counter(key, by, etag), stamp)])
                        return by
                    current = fields.get("n")
                    if fields.get("v") is not None or type(current) is not int:
                        raise InvalidValue(
                            key, "increment needs an integer value; the stored value is not one"
                        )
                    change = {"etag": etag, "n": firestore.Increment(by)}
                    self._commit([self._update_write(key, change, stamp)])
                    # The precondition held, so nothing changed between the read and the add.
                    return int(current) + by
                except (gexc.AlreadyExists, *_CONDITION_FAILED):
                    time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
        raise Conflict(key, f"increment: the item kept changing over {INCREMENT_ATTEMPTS} attempts")

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> dict[str, StatekitError | str]:
        outcome: dict[str, StatekitError | str] = {}
        for chunk in _chunks(list(ops)):
            try:
                with self._errors("put_many"):
                    datas = [_data(op) for op in chunk]
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
                outcome[op.item.key] = _Etag.of(
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
        with self._errors("transact"):
            writes = {index: self._transact_write(op, now) for index, op in enumerate(ops)}
            for _ in range(RACE_ATTEMPTS):
                try:
                    results = self._commit(list(writes.values()))
                except (gexc.AlreadyExists, *_CONDITION_FAILED):
                    self._diagnose(ops, writes, now)
                    continue
                etags: list[str | None] = []
                for op, result in zip(ops, results, strict=True):
                    if isinstance(op, PreparedPut):
                        token = op.item.etag
                        etags.append(_Etag.of(result.update_time, token, op.item.expires_at).text())
                    else:
                        etags.append(None)
                return etags
        raise Conflict(
            _key(ops[0]), f"transaction: items kept changing over {RACE_ATTEMPTS} attempts"
        )

    def _transact_write(self, op: PreparedOp, now: float) -> Any:
        key, condition = _key(op), op.condition
        etag = None
        if condition.if_match is not None:
            etag = self._usable_etag(key, condition.if_match, now)
        if isinstance(op, PreparedPut):
            data = _data(op)
            if condition.if_absent:
                return self._create_write(key, data)
            return self._set_write(key, data, etag.timestamp() if etag else None)
        if isinstance(op, PreparedDelete):
            return self._delete_write(key, update_time=etag.timestamp() if etag else None)
        # A check: an unchanged rewrite of the token under the precondition (the
        # document and its update_time stay as they are), or a delete that must find
        # nothing there.
        if etag is not None:
            return self._update_write(key, {"etag": etag.token}, etag.timestamp())
        return self._delete_write(key, exists=False)

    def _diagnose(self, ops: Sequence[PreparedOp], writes: dict[int, Any], now: float) -> None:
        """After a refused commit: raise ``Conflict`` for the key whose condition failed,
        or adjust a create over an expired document so the commit can be re-sent.
        (A refused Commit does not say which write failed; one read of the
        conditional keys does.)"""
        conditional = [i for i, op in enumerate(ops) if op.condition.is_conditional]
        refs = [self._ref(_key(ops[i])) for i in conditional]
        snapshots = {s.id: s for s in self._client.get_all(refs, retry=RETRY, timeout=RPC_TIMEOUT)}
        for index in conditional:
            op = ops[index]
            key = _key(op)
            snapshot = snapshots.get(_doc_id(key))
            fields = snapshot.to_dict() if snapshot is not None and snapshot.exists else None
            if op.condition.if_absent:
                if fields is None:
                    continue
                if not _expired(fields, now):
                    current = self._item(fields, snapshot.update_time)  # type: ignore[union-attr]
                    raise Conflict(key, "if_absent: the key already exists", current)
                stamp = _Etag.of(snapshot.update_time, "", None).timestamp()  # type: ignore[union-attr]
                writes[index] = (
                    self._set_write(key, _data(op), stamp)
                    if isinstance(op, PreparedPut)
                    else self._delete_write(key, update_time=stamp)
                )
                continue
            wanted = _Etag.parse(op.condition.if_match or "")
            if fields is None or _expired(fields, now):
                raise Conflict(key, "if_match: the key does not exist", None, current_reported=True)
            have = _Etag.of(snapshot.update_time, "", None)  # type: ignore[union-attr]
            if wanted is None or (have.seconds, have.nanos) != (wanted.seconds, wanted.nanos):
                current = self._item(fields, snapshot.update_time)  # type: ignore[union-attr]
                raise Conflict(
                    key, "if_match: the etag no longer matches (the item changed)", current
                )

    def list(self, prefix: str, after: str | None, limit: int, now: float) -> list[Item]:
        upper = rules.prefix_upper_bound(prefix)
        items: list[Item] = []
        start, inclusive = (
            (after, False) if after is not None and after >= prefix else (prefix, True)
        )
        with self._errors("list"):
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
                    if not _expired(fields, now):
                        items.append(self._item(fields, snapshot.update_time))
                if len(snapshots) < want:
                    break
                start, inclusive = str(snapshots[-1].get("key")), False
        return items

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]


def _key(op: PreparedOp) -> str:
    return op.item.key if isinstance(op, PreparedPut) else op.key


def _chunks(ops: list[PreparedPut]) -> Iterator[list[PreparedPut]]:
    """Commits of at most 500 writes and about 9 MB."""
    chunk: list[PreparedPut] = []
    size = 0
    for op in ops:
        op_size = len(op.data) * 4 + 1024  # UTF-8 upper bound, plus fields and name
        if chunk and (len(chunk) == MAX_WRITES_PER_COMMIT or size + op_size > MAX_COMMIT_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(op)
        size += op_size
    if chunk:
        yield chunk
