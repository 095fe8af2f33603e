"""A resent write is applied once: the check for the backends whose SDK resends by itself."""

from __future__ import annotations

import time
import uuid

import statekit


def assert_a_resent_write_is_applied_once(store: statekit.Store) -> str:
    """The SDK resends a request whose response was lost; the fresh etag makes that
    harmless. Returns the test's partition, for checks of its own."""
    backend = store.backend
    ns = f"i{uuid.uuid4().hex[:8]}"
    now = time.time()
    assert backend.increment(f"{ns}/n", 5, "etag-one", now) == 5
    assert backend.increment(f"{ns}/n", 5, "etag-one", now) == 5  # the same request again
    assert backend.increment(f"{ns}/n", 5, "etag-two", now) == 10
    first = store.put(f"{ns}/p", "v1")
    op = store._prepare_put(f"{ns}/p", "v2", first.etag, False, None)
    backend.put(op, now)
    backend.put(op, now)  # a resend of a successful if_match write: success, not Conflict
    assert store.get(f"{ns}/p").value == "v2"  # type: ignore[union-attr]
    return ns
