"""statekit: state for serverless functions, one API on AWS, Azure, Google Cloud and a laptop.

Only the store core is imported eagerly; cache, queue, workflows and
idempotency load on first use so a function's cold start pays for what it uses.
"""

from __future__ import annotations

from typing import Any

from statekit.errors import (
    BackendUnavailable,
    Conflict,
    CrossPartitionTransaction,
    InvalidKey,
    InvalidOption,
    InvalidTransaction,
    InvalidURL,
    InvalidValue,
    StatekitError,
    Unsupported,
    ValueTooLarge,
)
from statekit.lazy import lazy_attribute
from statekit.store import (
    BatchResult,
    Capability,
    Check,
    Delete,
    Item,
    Limits,
    Page,
    Put,
    Store,
    open_store,
)

__version__ = "0.1.0"

_LAZY = {
    "open_cache": "statekit.cache",
    "CacheAside": "statekit.cache.aside",
    "open_queue": "statekit.queue",
    "open_workflows": "statekit.workflows",
    "idempotent": "statekit.idempotency",
    "AlreadyInProgress": "statekit.idempotency",
    "IdempotencyKeyMismatch": "statekit.idempotency",
    "function_deadline": "statekit.idempotency",
}


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name)


__all__ = [
    "AlreadyInProgress",
    "BackendUnavailable",
    "BatchResult",
    "CacheAside",
    "Capability",
    "Check",
    "Conflict",
    "CrossPartitionTransaction",
    "Delete",
    "IdempotencyKeyMismatch",
    "InvalidKey",
    "InvalidOption",
    "InvalidTransaction",
    "InvalidURL",
    "InvalidValue",
    "Item",
    "Limits",
    "Page",
    "Put",
    "StatekitError",
    "Store",
    "Unsupported",
    "ValueTooLarge",
    "function_deadline",
    "idempotent",
    "open_cache",
    "open_queue",
    "open_store",
    "open_workflows",
]
