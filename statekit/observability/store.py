"""The store backend, instrumented: a CLIENT span and a duration per hook, a record per mutation."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from statekit.observability import mutations, semconv
from statekit.observability.base import InstrumentedBackend
from statekit.observability.spans import ItemErrors, errors_in, measure, partition_of
from statekit.observability.telemetry import outcome_of
from statekit.store.backend import (
    PreparedCheck,
    PreparedDelete,
    PreparedOp,
    PreparedPut,
    WriteCondition,
)


class InstrumentedStore(InstrumentedBackend):
    block = "store"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.db_system = semconv.DB_SYSTEMS.get(self.backend_name, self.backend_name)
        self.mutation_level = mutations.level()

    def _attributes(
        self, operation: str, key: str | None = None, batch: int | None = None
    ) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            semconv.DB_SYSTEM: self.db_system,
            semconv.DB_OPERATION: operation,
        }
        if self.target:
            attributes[semconv.DB_COLLECTION] = self.target
        if key is not None:
            attributes[semconv.PARTITION] = partition_of(key)
            if self.telemetry is not None and self.telemetry.record_keys:
                attributes[semconv.KEY] = key
        if batch is not None:
            attributes[semconv.DB_BATCH_SIZE] = batch
        return attributes

    def _call(
        self,
        operation: str,
        key: str | None,
        batch: int | None,
        fn: Any,
        *args: Any,
        item_errors: ItemErrors | None = None,
    ) -> Any:
        if self.telemetry is None:
            return fn(*args)
        return measure(
            self.telemetry,
            self.span_name(operation),
            self._attributes(operation, key, batch),
            self.metric(operation),
            fn,
            *args,
            item_errors=item_errors,
        )

    def _mutation(self, operation: str, key: str, etag: str | None, outcome: str) -> None:
        mutations.record(
            self.backend_name,
            operation=operation,
            key=key,
            etag=etag,
            outcome=outcome,
            at=self.mutation_level,
        )

    def _mutating(self, operation: str, key: str, fn: Any, *args: Any) -> Any:
        try:
            result = self._call(operation, key, None, fn, *args)
        except Exception as error:
            self._mutation(operation, key, None, outcome_of(error))
            raise
        return result

    def traced_update(self, update: Callable[..., Any]) -> Callable[..., Any]:
        """The store's ``update`` in a span of its own with the attempts it took.

        The facade asks for it once, when it is made over this backend. An attempt is
        one call of the caller's ``change`` (each is followed by one conditional write),
        so counting those calls needs no hook inside the retry loop."""
        telemetry = self.telemetry
        if telemetry is None:  # the mutation log alone: nothing to time
            return update

        def traced(key: str, change: Callable[[Any], Any], **options: Any) -> Any:
            attempts = 0

            def counted(value: Any) -> Any:
                nonlocal attempts
                attempts += 1
                return change(value)

            return measure(
                telemetry,
                self.span_name("update"),
                self._attributes("update", key),
                self.metric("update"),
                lambda: update(key, counted, **options),
                final_attributes=lambda: {semconv.UPDATE_ATTEMPTS: attempts},
            )

        return traced

    # reads
    def get(self, key: str, now: float) -> Any:
        return self._call("get", key, None, self.inner.get, key, now)

    def get_many(self, keys: Sequence[str], now: float) -> Any:
        return self._call("get_many", None, len(keys), self.inner.get_many, keys, now)

    def list(self, prefix: str, after: str | None, limit: int, now: float) -> Any:
        return self._call("list", prefix, None, self.inner.list, prefix, after, limit, now)

    # writes
    def put(self, op: PreparedPut, now: float) -> str:
        etag: str = self._mutating("put", op.item.key, self.inner.put, op, now)
        self._mutation("put", op.item.key, etag, "ok")
        return etag

    def delete(self, key: str, condition: WriteCondition, now: float) -> bool:
        deleted: bool = self._mutating("delete", key, self.inner.delete, key, condition, now)
        self._mutation("delete", key, None, "ok" if deleted else "absent")
        return deleted

    def increment(self, key: str, by: int, etag: str, now: float) -> int:
        value: int = self._mutating("increment", key, self.inner.increment, key, by, etag, now)
        self._mutation("increment", key, etag, "ok")
        return value

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> Mapping[str, Any]:
        results: Mapping[str, Any] = self._call(
            "put_many", None, len(ops), self.inner.put_many, ops, now, item_errors=errors_in
        )
        if mutations.LOGGER.isEnabledFor(self.mutation_level):
            # The hook answers only the exceptions: a key it does not name got the etag proposed.
            for op in ops:
                key = op.item.key
                result = results.get(key, op.item.etag)
                ok = isinstance(result, str)
                self._mutation("put", key, result if ok else None, "ok" if ok else "failed")
        return results

    def delete_many(self, keys: Sequence[str], now: float) -> dict[str, Any]:
        failed: dict[str, Any] = self._call(
            "delete_many", None, len(keys), self.inner.delete_many, keys, now, item_errors=errors_in
        )
        if mutations.LOGGER.isEnabledFor(self.mutation_level):
            for key in keys:
                self._mutation("delete", key, None, "failed" if key in failed else "ok")
        return failed

    def transact(self, ops: Sequence[PreparedOp], now: float) -> builtins.list[str | None]:
        first = _key_of(ops[0]) if ops else None
        try:
            etags: builtins.list[str | None] = self._call(
                "transact", first, len(ops), self.inner.transact, ops, now
            )
        except Exception as error:
            for op in ops:
                if not isinstance(op, PreparedCheck):
                    self._mutation("transact", _key_of(op), None, outcome_of(error))
            raise
        if mutations.LOGGER.isEnabledFor(self.mutation_level):
            for op, etag in zip(ops, etags, strict=False):
                if not isinstance(op, PreparedCheck):
                    self._mutation("transact", _key_of(op), etag, "ok")
        return etags


def _key_of(op: PreparedOp) -> str:
    if isinstance(op, PreparedPut):
        return op.item.key
    assert isinstance(op, PreparedDelete | PreparedCheck)
    return op.key
