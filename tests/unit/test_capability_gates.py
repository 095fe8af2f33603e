"""The Store refuses what a backend does not declare, instead of silently ignoring it."""

from __future__ import annotations

import pytest

import statekit
from statekit import Capability, Put, Unsupported
from statekit.store.backends.memory import MemoryStore


class BareMemory(MemoryStore):
    """In-process fake declaring no optional capability: pure logic under test."""

    name = "bare"
    capabilities = frozenset()


@pytest.fixture
def bare() -> statekit.Store:
    return statekit.Store(BareMemory())


@pytest.mark.parametrize(
    ("capability", "call"),
    [
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
    ],
)
def test_undeclared_capability_raises_unsupported(
    bare: statekit.Store, capability: Capability, call
) -> None:
    with pytest.raises(Unsupported, match=capability.value):
        call(bare)
    assert bare.get("a/b") is None


def test_plain_calls_still_work_without_optional_capabilities(bare: statekit.Store) -> None:
    bare.put("a/b", 1)
    assert bare.get("a/b").value == 1  # type: ignore[union-attr]
    assert bare.delete("a/b") is True
