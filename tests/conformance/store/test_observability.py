"""Every store backend traced and counted the same way (issue 17), on its real stand-in.

The spans and metrics are read back through the OpenTelemetry SDK's in-memory
exporters; no value and no secret may ever be an attribute.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

import statekit
from statekit import Conflict
from statekit.observability import correlation_scope, semconv
from statekit.observability.base import InstrumentedBackend
from statekit.registry import open_backend
from statekit.store import Store
from statekit.store.backend import StoreBackend
from tests.conformance.fault import (
    restartable_cases,
    secrets_of,
    traced_own,
    traced_unavailable,
)
from tests.conformance.registry import Case, Restartable
from tests.conformance.store.conftest import STORE_CASES
from tests.observability.telemetry_fixture import (
    Captured,
    all_attribute_values,
    attrs,
    captured_telemetry,
)
from tests.standins.base import StandInPool

VALUE_MARKER = "value-must-not-be-traced-7f3a"


@pytest.fixture
def traced_store(
    store_case: Case, standins: StandInPool, tmp_path: Path
) -> Iterator[tuple[Store, Captured]]:
    # The suite's shared store was opened before telemetry existed: open a new one now.
    url = store_case.live_url(standins, tmp_path)
    for captured in captured_telemetry():
        backend = open_backend("store", url)
        assert isinstance(backend, InstrumentedBackend)
        store = Store(cast(StoreBackend, backend))
        yield store, captured
        store.close()


def test_each_operation_is_a_client_span_with_the_database_conventions(
    traced_store: tuple[Store, Captured], ns: str
) -> None:
    store, captured = traced_store
    key = f"{ns}/item"
    item = store.put(key, {"secret": VALUE_MARKER})
    assert store.get(key) is not None
    store.increment(f"{ns}/count", 2)
    store.list(f"{ns}/")
    store.delete(key, if_match=item.etag)

    spans = captured.spans()
    operations = [attrs(span)[semconv.DB_OPERATION] for span in spans]
    assert operations == ["put", "get", "increment", "list", "delete"]
    system = semconv.DB_SYSTEMS[store.backend.name]
    for span in spans:
        attributes = span.attributes or {}
        assert attributes[semconv.DB_SYSTEM] == system
        assert attributes[semconv.PARTITION] == ns
        assert attributes[semconv.OUTCOME] == "ok"
        assert span.name.startswith(str(attributes[semconv.DB_OPERATION]))
        assert semconv.KEY not in attributes  # keys are personal data until the operator allows
    assert not any(VALUE_MARKER in value for value in all_attribute_values(spans))

    durations = captured.points("statekit.operation.duration")
    counted = {(a[semconv.OPERATION], a[semconv.OUTCOME]): p.count for a, p in durations}
    assert counted[("put", "ok")] == 1
    assert counted[("delete", "ok")] == 1


def test_a_failed_condition_is_marked_conflict_not_an_error(
    traced_store: tuple[Store, Captured], ns: str
) -> None:
    store, captured = traced_store
    key = f"{ns}/item"
    store.put(key, 1)
    with pytest.raises(Conflict):
        store.put(key, 2, if_absent=True)

    span = captured.spans()[-1]
    attributes = span.attributes or {}
    assert attributes[semconv.OUTCOME] == "conflict"
    assert attributes[semconv.CONFLICT] is True
    assert attributes[semconv.ERROR_TYPE] == "Conflict"
    assert span.status.status_code.name == "UNSET"
    outcomes = {a[semconv.OUTCOME] for a, _ in captured.points("statekit.operation.duration")}
    assert "conflict" in outcomes


def test_every_mutation_is_one_json_record_with_its_etag_and_correlation_id(
    traced_store: tuple[Store, Captured], ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, _ = traced_store
    correlation_id = f"req-{uuid.uuid4().hex[:8]}"
    with (
        caplog.at_level(logging.INFO, logger="statekit.mutations"),
        correlation_scope(correlation_id),
    ):
        item = store.put(f"{ns}/a", {"v": VALUE_MARKER})
        store.increment(f"{ns}/b", 1)
        store.put(f"{ns}/c", 2)
        store.delete(f"{ns}/a")
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "statekit.mutations"]
    assert [(r["operation"], r["key"]) for r in records] == [
        ("put", f"{ns}/a"),
        ("increment", f"{ns}/b"),
        ("put", f"{ns}/c"),
        ("delete", f"{ns}/a"),
    ]
    assert records[0]["etag"] == item.etag
    assert all(r["correlation_id"] == correlation_id and r["outcome"] == "ok" for r in records)
    assert records[1]["etag"] and records[2]["etag"]
    assert not any(VALUE_MARKER in r.getMessage() for r in caplog.records)


@pytest.fixture(params=restartable_cases(STORE_CASES))
def traced_own_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Restartable, Store, Captured]]:
    yield from traced_own(STORE_CASES[request.param], tmp_path, monkeypatch, statekit.open_store)


def test_an_unreachable_server_is_one_error_span_with_outcome_unavailable(
    traced_own_store: tuple[Restartable, Store, Captured], caplog: pytest.LogCaptureFixture
) -> None:
    own, store, captured = traced_own_store
    store.put("u/a", 1)  # a connection made, then lost: what a warm function sees
    own.stop()
    with caplog.at_level(logging.INFO, logger="statekit.mutations"):
        span = traced_unavailable(
            captured,
            lambda: store.put("u/a", {"secret": VALUE_MARKER}),
            block="store",
            operation="put",
            secrets=[VALUE_MARKER, *secrets_of(own.env)],
            backend=store.backend.name,
        )
    attributes = attrs(span)
    assert attributes[semconv.DB_SYSTEM] == semconv.DB_SYSTEMS[store.backend.name]
    assert attributes[semconv.PARTITION] == "u"
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "statekit.mutations"]
    assert [(r["operation"], r["key"], r["outcome"]) for r in records] == [
        ("put", "u/a", "unavailable")
    ]
    assert not any(VALUE_MARKER in r.getMessage() for r in caplog.records)
