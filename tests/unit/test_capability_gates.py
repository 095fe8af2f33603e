"""The Store refuses what a backend does not declare, instead of silently ignoring it."""

from __future__ import annotations

import pytest

import statekit
from statekit import Capability, Unsupported
from statekit.store.backends.memory import MemoryStore
from tests.conformance.store.capability_calls import CAPABILITY_CALLS


class BareMemory(MemoryStore):
    """In-process fake declaring no optional capability: pure logic under test."""

    name = "bare"
    capabilities = frozenset()


@pytest.fixture
def bare() -> statekit.Store:
    return statekit.Store(BareMemory())


@pytest.mark.parametrize(("capability", "call"), CAPABILITY_CALLS)
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
