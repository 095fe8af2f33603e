"""Each backend declares the capabilities its case expects; each one left out is refused."""

from __future__ import annotations

import pytest

import statekit
from statekit import Unsupported
from tests.conformance.registry import Case
from tests.conformance.store.capability_calls import CAPABILITY_CALLS


def test_declared_capabilities_are_the_expected_ones_and_the_rest_refused(
    store: statekit.Store, store_case: Case
) -> None:
    assert store.capabilities == store_case.capabilities
    for capability, call in CAPABILITY_CALLS:
        if capability in store_case.capabilities:
            continue
        with pytest.raises(Unsupported, match=capability.value):
            call(store)
        assert store.get("a/b") is None  # refused before anything was written
