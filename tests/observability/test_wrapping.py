"""When statekit instruments, and what its spans say on the failure paths (pure logic + embedded)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import statekit
from statekit import BackendUnavailable, observability
from statekit.observability import semconv
from statekit.observability.base import InstrumentedBackend
from statekit.registry import open_backend
from statekit.store import Store
from statekit.store.backends.sqlite import SQLiteStore
from tests.observability.telemetry_fixture import Captured, captured_telemetry


def test_nothing_is_wrapped_when_nothing_listens(tmp_path: Path) -> None:
    observability.reset()
    backend = open_backend("store", f"sqlite:///{tmp_path}/plain.db")
    assert type(backend) is SQLiteStore
    assert type(open_backend("cache", "memory://")).__name__ == "MemoryCache"


def test_the_mutation_log_alone_wraps_the_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    observability.reset()
    with caplog.at_level(logging.INFO, logger="statekit.mutations"):
        backend = open_backend("store", f"sqlite:///{tmp_path}/logged.db")
        assert isinstance(backend, InstrumentedBackend)
        result = Store(backend).put_many(  # type: ignore[arg-type]  # stands in for one
            {"p/a": 1, "p/b": 2}
        )
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "statekit.mutations"]
    assert [(r["operation"], r["key"], r["etag"]) for r in records] == [
        ("put", "p/a", result.items["p/a"].etag),
        ("put", "p/b", result.items["p/b"].etag),
    ]


@pytest.fixture
def keyed() -> Iterator[Captured]:
    yield from captured_telemetry(record_keys=True)


def test_keys_are_recorded_only_when_the_operator_allows(keyed: Captured, tmp_path: Path) -> None:
    store = Store(open_backend("store", f"sqlite:///{tmp_path}/keys.db"))
    store.put("cart-1/meta", 1)
    assert (keyed.spans()[-1].attributes or {})[semconv.KEY] == "cart-1/meta"


class _DownBackend:
    name = "sqlite"

    def get(self, key: str, now: float) -> None:
        raise BackendUnavailable("sqlite", "get")


def test_an_unavailable_backend_is_an_error_span_and_an_unavailable_outcome(
    telemetry: Captured,
) -> None:
    from statekit.observability.store import InstrumentedStore
    from statekit.observability.telemetry import active
    from statekit.urls import parse_url

    url = parse_url("sqlite:///down.db", allowed_schemes={"sqlite"})
    backend = InstrumentedStore(_DownBackend(), url, active())
    with pytest.raises(BackendUnavailable):
        backend.get("p/k", 0.0)
    span = telemetry.spans()[-1]
    assert (span.attributes or {})[semconv.OUTCOME] == "unavailable"
    assert span.status.status_code.name == "ERROR"
    outcomes = [a[semconv.OUTCOME] for a, _ in telemetry.points("statekit.operation.duration")]
    assert outcomes == ["unavailable"]


def test_cache_hits_and_misses_are_counted(telemetry: Captured) -> None:
    from statekit.cache import Cache

    cache = Cache(open_backend("cache", "memory://?max_entries=10"))
    cache.set("a", 1)
    cache.get("a")
    cache.get("b")
    counts = {a[semconv.CACHE_HIT]: p.value for a, p in telemetry.points("statekit.cache.requests")}
    assert counts == {"true": 1, "false": 1}


def test_queue_messages_are_counted_by_what_happened(telemetry: Captured, tmp_path: Path) -> None:
    from statekit.queue import Queue

    queue = Queue(open_backend("queue", f"sqlite:///{tmp_path}/q.db?queue=jobs"))
    queue.send({"n": 1})
    queue.send({"n": 2})
    first, second = queue.receive(2)
    queue.ack(first)
    queue.release(second)
    events = {
        a["statekit.queue.event"]: p.value for a, p in telemetry.points("statekit.queue.messages")
    }
    assert events == {"sent": 2, "received": 2, "acked": 1, "released": 1}
    kinds = {(s.attributes or {})[semconv.MESSAGING_OPERATION_TYPE] for s in telemetry.spans()}
    assert kinds == {"send", "receive", "settle"}


def test_open_store_of_the_embedded_default_traces_through_the_facade(
    telemetry: Captured, tmp_path: Path
) -> None:
    store = statekit.open_store(f"sqlite:///{tmp_path}/facade.db")
    store.put("p/k", {"x": 1})
    assert (telemetry.spans()[-1].attributes or {})[semconv.DB_SYSTEM] == "sqlite"
    store.close()


def test_an_idempotent_replay_is_counted(telemetry: Captured, tmp_path: Path) -> None:
    store = statekit.open_store(f"sqlite:///{tmp_path}/idem.db")

    @statekit.idempotent(key="order_id", store=store)
    def charge(event: dict[str, str]) -> str:
        return f"charged {event['order_id']}"

    assert charge({"order_id": "o-1"}) == charge({"order_id": "o-1"}) == "charged o-1"
    replays = [p.value for _, p in telemetry.points("statekit.idempotency.replays")]
    assert replays == [1]
