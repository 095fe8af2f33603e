"""The store: one meaning of key-value state on every backend.

``types`` holds the value types, ``rules`` the portable key and value rules,
``backend`` the hooks a backend implements, ``facade`` the ``Store`` every caller
uses, and ``backends/`` one module (or folder) per service.
"""

from statekit.store.facade import (
    DEFAULT_STORE_URL,
    DEFAULT_UPDATE_ATTEMPTS,
    MAX_LIST_LIMIT,
    STORE_URL_VARIABLE,
    Store,
    open_store,
)
from statekit.store.types import (
    ALL_CAPABILITIES,
    BatchResult,
    Capability,
    Check,
    Delete,
    Item,
    Limits,
    Operation,
    Page,
    Put,
    WriteListener,
)

__all__ = [
    "ALL_CAPABILITIES",
    "DEFAULT_STORE_URL",
    "DEFAULT_UPDATE_ATTEMPTS",
    "MAX_LIST_LIMIT",
    "STORE_URL_VARIABLE",
    "BatchResult",
    "Capability",
    "Check",
    "Delete",
    "Item",
    "Limits",
    "Operation",
    "Page",
    "Put",
    "Store",
    "WriteListener",
    "open_store",
]
