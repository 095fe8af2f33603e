"""``transact`` on Firestore: one atomic Commit of writes with preconditions.

Create for ``if_absent``, ``update_time`` for ``if_match``, an unchanged rewrite
of the token for a ``Check``, a delete that must find nothing for an absent
``Check``. A refused Commit is diagnosed with one read of the conditional keys:
a ``Conflict`` for the key whose condition failed, or a create over an expired
document turned into an overwrite of exactly that version, and the Commit re-sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from google.api_core import exceptions as gexc

from statekit.errors import Conflict
from statekit.store.backend import (
    ETAG_CHANGED,
    KEY_EXISTS,
    KEY_MISSING,
    PreparedDelete,
    PreparedOp,
    PreparedPut,
)
from statekit.store.backends.firestore.client import (
    CONDITION_FAILED,
    RACE_ATTEMPTS,
    RETRY,
    RPC_TIMEOUT,
)
from statekit.store.backends.firestore.documents import (
    Etag,
    doc_id,
    document_fields,
    is_expired,
    key_of,
)

if TYPE_CHECKING:
    from statekit.store.backends.firestore.store import FirestoreStore


class FirestoreTransaction:
    def __init__(self, store: FirestoreStore, ops: Sequence[PreparedOp], now: float) -> None:
        self.store = store
        self.ops = ops
        self.now = now

    def run(self) -> list[str | None]:
        store, ops, now = self.store, self.ops, self.now
        with store._errors("transact"):
            writes = {index: self._write(op, now) for index, op in enumerate(ops)}
            for _ in range(RACE_ATTEMPTS):
                try:
                    results = store._commit(list(writes.values()))
                except (gexc.AlreadyExists, *CONDITION_FAILED):
                    self._diagnose(ops, writes, now)
                    continue
                etags: list[str | None] = []
                for op, result in zip(ops, results, strict=True):
                    if isinstance(op, PreparedPut):
                        token = op.item.etag
                        etags.append(Etag.of(result.update_time, token, op.item.expires_at).text())
                    else:
                        etags.append(None)
                return etags
        raise Conflict(
            key_of(ops[0]), f"transaction: items kept changing over {RACE_ATTEMPTS} attempts"
        )

    def _write(self, op: PreparedOp, now: float) -> Any:
        store = self.store
        key, condition = key_of(op), op.condition
        etag = None
        if condition.if_match is not None:
            etag = store._usable_etag(key, condition.if_match, now)
        if isinstance(op, PreparedPut):
            data = document_fields(op)
            if condition.if_absent:
                return store._create_write(key, data)
            return store._set_write(key, data, etag.timestamp() if etag else None)
        if isinstance(op, PreparedDelete):
            return store._delete_write(key, update_time=etag.timestamp() if etag else None)
        # A check: an unchanged rewrite of the token under the precondition (the
        # document and its update_time stay as they are), or a delete that must find
        # nothing there.
        if etag is not None:
            return store._update_write(key, {"etag": etag.token}, etag.timestamp())
        return store._delete_write(key, exists=False)

    def _diagnose(self, ops: Sequence[PreparedOp], writes: dict[int, Any], now: float) -> None:
        """After a refused commit: raise ``Conflict`` for the key whose condition failed,
        or adjust a create over an expired document so the commit can be re-sent.
        (A refused Commit does not say which write failed; one read of the
        conditional keys does.)"""
        store = self.store
        conditional = [i for i, op in enumerate(ops) if op.condition.is_conditional]
        refs = [store._ref(key_of(ops[i])) for i in conditional]
        snapshots = {s.id: s for s in store._client.get_all(refs, retry=RETRY, timeout=RPC_TIMEOUT)}
        for index in conditional:
            op = ops[index]
            key = key_of(op)
            snapshot = snapshots.get(doc_id(key))
            fields = snapshot.to_dict() if snapshot is not None and snapshot.exists else None
            if op.condition.if_absent:
                if fields is None:
                    continue
                if not is_expired(fields, now):
                    current = store._item(fields, snapshot.update_time)  # type: ignore[union-attr]
                    raise Conflict(key, KEY_EXISTS, current)
                stamp = Etag.of(snapshot.update_time, "", None).timestamp()  # type: ignore[union-attr]
                writes[index] = (
                    store._set_write(key, document_fields(op), stamp)
                    if isinstance(op, PreparedPut)
                    else store._delete_write(key, update_time=stamp)
                )
                continue
            wanted = Etag.parse(op.condition.if_match or "")
            if fields is None or is_expired(fields, now):
                raise Conflict(key, KEY_MISSING, None, current_reported=True)
            have = Etag.of(snapshot.update_time, "", None)  # type: ignore[union-attr]
            if wanted is None or (have.seconds, have.nanos) != (wanted.seconds, wanted.nanos):
                current = store._item(fields, snapshot.update_time)  # type: ignore[union-attr]
                raise Conflict(key, ETAG_CHANGED, current)
