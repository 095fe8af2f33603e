"""The idempotency record: one store item per key, in progress and then completed.

In progress: ``{"status": "in_progress", "payload_hash", "in_progress_until", "function"}``;
completed: ``{"status": "completed", "payload_hash", "expires_at", "function", "result"}``.
The record's own times rule where the store has no native TTL (checked on read).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from statekit.errors import StatekitError
from statekit.store import Item

RECORD_PREFIX = "idem-"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    status: str
    payload_hash: str
    in_progress_until: float
    expires_at: float | None
    result: Any

    @classmethod
    def of(cls, item: Item, function: str) -> IdempotencyRecord:
        value = item.value
        try:
            return cls(
                value["status"],
                value["payload_hash"],
                float(value.get("in_progress_until") or 0.0),
                value.get("expires_at"),
                value.get("result"),
            )
        except (TypeError, KeyError, ValueError):
            raise StatekitError(
                f"{function}: the item at {item.key!r} is not an idempotency record; "
                "is another program writing that key?"
            ) from None

    def is_expired(self, now: float) -> bool:
        if self.status == IN_PROGRESS:
            return self.in_progress_until <= now
        return self.expires_at is not None and self.expires_at <= now


def in_progress_value(function: str, payload_hash: str, expiry: float) -> dict[str, Any]:
    return {
        "status": IN_PROGRESS,
        "payload_hash": payload_hash,
        "in_progress_until": time.time() + expiry,
        "function": function,
    }


def completed_value(function: str, payload_hash: str, ttl: float, result: Any) -> dict[str, Any]:
    return {
        "status": COMPLETED,
        "payload_hash": payload_hash,
        "expires_at": time.time() + ttl,
        "function": function,
        "result": result,
    }
