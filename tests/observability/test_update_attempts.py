"""``Store.update`` in a span of its own, with the attempts it took (embedded sqlite store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from statekit import Conflict, observability
from statekit.observability import semconv
from statekit.registry import open_backend
from statekit.store import Store
from tests.observability.telemetry_fixture import Captured


def _update_spans(telemetry: Captured) -> list[Any]:
    return [
        s for s in telemetry.spans() if (s.attributes or {}).get(semconv.DB_OPERATION) == "update"
    ]


def test_an_update_that_met_a_concurrent_writer_records_two_attempts(
    telemetry: Captured, tmp_path: Path
) -> None:
    store = Store(open_backend("store", f"sqlite:///{tmp_path}/update.db"))
    store.put("carts/c1", 1)
    calls = 0

    def change(value: int) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            store.put("carts/c1", 10)  # another writer, between the read and the write
        return value + 1

    assert store.update("carts/c1", change).value == 11
    (span,) = _update_spans(telemetry)
    assert span.attributes[semconv.UPDATE_ATTEMPTS] == 2
    assert span.attributes[semconv.OUTCOME] == "ok"
    assert span.attributes[semconv.PARTITION] == "carts"
    points = [
        attributes
        for attributes, _ in telemetry.points("statekit.operation.duration")
        if attributes.get(semconv.OPERATION) == "update"
    ]
    assert points == [
        {
            semconv.BLOCK: "store",
            semconv.BACKEND: "sqlite",
            semconv.OPERATION: "update",
            semconv.OUTCOME: "ok",
            semconv.UPDATE_ATTEMPTS: 2,
        }
    ]


def test_an_update_that_gave_up_records_its_attempts_and_the_conflict(
    telemetry: Captured, tmp_path: Path
) -> None:
    store = Store(open_backend("store", f"sqlite:///{tmp_path}/busy.db"))
    store.put("carts/c2", 0)

    def always_overtaken(value: int) -> int:
        store.put("carts/c2", value + 100)
        return value + 1

    with pytest.raises(Conflict):
        store.update("carts/c2", always_overtaken, attempts=3)
    (span,) = _update_spans(telemetry)
    assert span.attributes[semconv.UPDATE_ATTEMPTS] == 3
    assert span.attributes[semconv.OUTCOME] == "conflict"
    assert span.attributes[semconv.CONFLICT] is True


def test_without_telemetry_update_is_the_store_s_own_method(tmp_path: Path) -> None:
    observability.reset()
    store = Store(open_backend("store", f"sqlite:///{tmp_path}/plain.db"))
    assert "update" not in vars(store)  # nothing wraps it: no cost
    assert store.update("carts/c3", lambda v: 1).value == 1
