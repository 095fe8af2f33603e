"""What identifies one call of a decorated function: its store, record key, payload
hash and in-progress expiry (the first half of the runner; runner.py is the protocol)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from statekit.errors import Unsupported
from statekit.idempotency.deadline import is_platform_context, platform_remaining
from statekit.idempotency.errors import IdempotencyKeyError
from statekit.idempotency.options import (
    DEFAULT_IN_PROGRESS_EXPIRY,
    MIN_IN_PROGRESS_EXPIRY,
    IdempotencyOptions,
    seconds_option,
)
from statekit.idempotency.record import RECORD_PREFIX
from statekit.idempotency.selectors import without_delivery_fields
from statekit.store import Capability, Store, open_store

_canonical = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
)


class CallIdentity:
    def __init__(self, func: Callable[..., Any], spec: IdempotencyOptions) -> None:
        self.func = func
        self.spec = spec
        qualname = getattr(func, "__qualname__", type(func).__qualname__)  # callable objects too
        self.name = spec.namespace or f"{func.__module__}.{qualname}"
        self._store: Store | None = spec.store if isinstance(spec.store, Store) else None

    def store(self) -> Store:
        if self._store is None:
            url = self.spec.store if isinstance(self.spec.store, str) else None
            self._store = open_store(url)
        if Capability.CONDITIONAL_WRITES not in self._store.capabilities:
            raise Unsupported(self._store.backend.name, Capability.CONDITIONAL_WRITES.value)
        return self._store

    def record_key(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        value = self.spec.key(args, kwargs)
        if value in (None, "", [], {}) or (
            isinstance(value, list) and all(part is None for part in value)
        ):
            raise IdempotencyKeyError(
                f"{self.name}: the idempotency key is empty ({value!r}) for this call; "
                "check the key selector against the event"
            )
        text = self._canonical(value, "the idempotency key")
        digest = hashlib.sha256(f"{self.name}\n{text}".encode()).hexdigest()
        return f"{RECORD_PREFIX}{digest[:48]}"

    def payload_hash(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
        if self.spec.payload is not None:
            value = self.spec.payload(args, kwargs)
        elif self.spec.key_is_jmespath:
            event = args[0] if args else kwargs.get("event")
            value = without_delivery_fields(event)
        else:
            value = {
                "args": [a for a in args if not is_platform_context(a)],
                "kwargs": {k: v for k, v in kwargs.items() if not is_platform_context(v)},
            }
        text = self._canonical(value, "the payload (the function's arguments)")
        return hashlib.sha256(text.encode()).hexdigest()

    def _canonical(self, value: Any, what: str) -> str:
        try:
            return _canonical.encode(value)
        except (TypeError, ValueError) as exc:
            raise IdempotencyKeyError(
                f"{self.name}: {what} must be JSON-compatible to be hashed ({exc}); "
                "pass key=/payload= selecting the JSON part"
            ) from None

    def in_progress_expiry(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> float:
        configured = self.spec.in_progress_expiry
        if callable(configured):
            seconds = seconds_option(
                "in_progress_expiry()", configured(*args, **kwargs), allow_none=False
            )
        elif configured is not None:
            seconds = float(configured)
        else:
            seconds = platform_remaining(args, kwargs) or DEFAULT_IN_PROGRESS_EXPIRY
        return max(MIN_IN_PROGRESS_EXPIRY, seconds or 0.0)

    def identify(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Store, str, str, float]:
        store = self.store()
        return (
            store,
            self.record_key(args, kwargs),
            self.payload_hash(args, kwargs),
            self.in_progress_expiry(args, kwargs),
        )
