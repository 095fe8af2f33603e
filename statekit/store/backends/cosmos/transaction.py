"""``transact`` on Cosmos DB: one transactional batch, adjusted and re-sent when a
failed operation turns out to be harmless."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from azure.cosmos.exceptions import CosmosBatchOperationError

from statekit.errors import Conflict, InvalidTransaction
from statekit.store import rules
from statekit.store.backend import KEY_EXISTS, PreparedDelete, PreparedOp, PreparedPut
from statekit.store.backends.cosmos.documents import (
    MAX_BATCH_OPS,
    RACE_ATTEMPTS,
    document,
    is_expired,
    item_of,
    live_filter,
    result_etag,
    set_ops,
)
from statekit.store.backends.cosmos.ids import key_to_id

if TYPE_CHECKING:
    from statekit.store.backends.cosmos.store import CosmosStore


class CosmosTransaction:
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
            doc = document(op, self.now)
            if op.condition.if_match is not None:
                return [
                    (
                        "patch",
                        (doc["id"], set_ops(doc)),
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
            if current is not None and not is_expired(current, self.now):
                raise Conflict(key, KEY_EXISTS, item_of(current))
            if current is not None:
                # Expired, not reclaimed: absent. Overwrite exactly that version.
                match = {"if_match_etag": current["_etag"]}
                item_id = current["id"]
                if isinstance(op, PreparedPut):
                    doc = document(op, self.now)
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
            etags.append(result_etag(results[position]) if isinstance(op, PreparedPut) else None)
            position += len(slot)
        return etags
