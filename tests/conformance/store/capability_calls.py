"""One call per optional capability: what a backend that leaves it out must refuse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import statekit
from statekit import Capability, Put

StoreCall = Callable[[statekit.Store], Any]

CAPABILITY_CALLS: list[tuple[Capability, StoreCall]] = [
    (Capability.TTL, lambda s: s.put("a/b", 1, ttl=5)),
    (Capability.CONDITIONAL_WRITES, lambda s: s.put("a/b", 1, if_absent=True)),
    (Capability.CONDITIONAL_WRITES, lambda s: s.put("a/b", 1, if_match="e")),
    (Capability.CONDITIONAL_WRITES, lambda s: s.delete("a/b", if_match="e")),
    (Capability.CONDITIONAL_WRITES, lambda s: s.update("a/b", lambda v: 1)),
    (Capability.INCREMENT, lambda s: s.increment("a/b")),
    (Capability.TRANSACTIONS, lambda s: s.transact([Put("a/b", 1)])),
    (Capability.LIST, lambda s: s.list("a/")),
    (Capability.BATCH, lambda s: s.put_many({"a/b": 1})),
    (Capability.BATCH, lambda s: s.get_many(["a/b"])),
]
