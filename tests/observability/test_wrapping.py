"""When statekit instruments, and what its spans say on the failure paths (pure logic + embedded)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest

import statekit
from statekit import BackendUnavailable, Conflict, InvalidValue, StatekitError, observability
from statekit.observability import semconv
from statekit.observability.base import InstrumentedBackend
from statekit.queue.backend import QueueBackend
from statekit.registry import open_backend
from statekit.store import Store
from statekit.store.backend import PreparedPut, StoreBackend
from statekit.store.backends.memory import MemoryStore
from statekit.store.backends.sqlite import SQLiteStore
from tests.observability.telemetry_fixture import Captured, attrs, captured_telemetry


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
        result = Store(cast(StoreBackend, backend)).put_many({"p/a": 1, "p/b": 2})
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "statekit.mutations"]
    assert [(r["operation"], r["key"], r["etag"]) for r in records] == [
        ("put", "p/a", result.items["p/a"].etag),
        ("put", "p/b", result.items["p/b"].etag),
    ]


@pytest.fixture
def keyed() -> Iterator[Captured]:
    yield from captured_telemetry(record_keys=True)


def test_keys_are_recorded_only_when_the_operator_allows(keyed: Captured, tmp_path: Path) -> None:
    store = Store(cast(StoreBackend, open_backend("store", f"sqlite:///{tmp_path}/keys.db")))
    store.put("cart-1/meta", 1)
    assert attrs(keyed.spans()[-1])[semconv.KEY] == "cart-1/meta"


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
    assert attrs(span)[semconv.OUTCOME] == "unavailable"
    assert span.status.status_code.name == "ERROR"
    outcomes = [a[semconv.OUTCOME] for a, _ in telemetry.points("statekit.operation.duration")]
    assert outcomes == ["unavailable"]


class _PartlyDone(MemoryStore):
    """Answers a batch per key, as a backend does when some of the batch's requests fail."""

    def __init__(self, failures: dict[str, StatekitError]) -> None:
        super().__init__()
        self.failures = failures

    def put_many(self, ops: Sequence[PreparedPut], now: float) -> dict[str, StatekitError]:
        super().put_many([op for op in ops if op.item.key not in self.failures], now)
        return dict(self.failures)

    def delete_many(self, keys: Sequence[str], now: float) -> dict[str, StatekitError]:
        super().delete_many([key for key in keys if key not in self.failures], now)
        return dict(self.failures)


_DOWN = BackendUnavailable("memory", "put_many")
_REFUSED = InvalidValue("p/a", "refused by the service")
_LOST_RACE = Conflict("p/a", "changed meanwhile")


@pytest.mark.parametrize(
    ("failures", "outcome", "error_type"),
    [
        ({}, "ok", None),
        ({"p/b": _DOWN}, "unavailable", "BackendUnavailable"),
        ({"p/a": _REFUSED, "p/b": _DOWN}, "unavailable", "BackendUnavailable"),
        ({"p/a": _REFUSED}, "invalid", "InvalidValue"),
        ({"p/a": _LOST_RACE}, "conflict", "Conflict"),
    ],
)
def test_a_batch_is_recorded_by_its_worst_failed_item(
    telemetry: Captured,
    failures: dict[str, StatekitError],
    outcome: str,
    error_type: str | None,
) -> None:
    from statekit.observability.store import InstrumentedStore
    from statekit.observability.telemetry import active
    from statekit.urls import parse_url

    url = parse_url("memory://batches", allowed_schemes={"memory"})
    store = Store(cast(StoreBackend, InstrumentedStore(_PartlyDone(failures), url, active())))
    # A batch hook answers instead of raising: the call "worked", its items did not.
    assert set(store.put_many({"p/a": 1, "p/b": 2}).failed) == set(failures)
    assert set(store.delete_many(["p/a", "p/b"]).failed) == set(failures)

    for span in telemetry.spans():
        assert attrs(span)[semconv.OUTCOME] == outcome
        assert attrs(span).get(semconv.ERROR_TYPE) == error_type
        failed = outcome not in ("ok", "conflict")  # a failed condition is no fault
        assert (span.status.status_code.name == "ERROR") is failed
    counted = {
        (a[semconv.OPERATION], a[semconv.OUTCOME]): p.count
        for a, p in telemetry.points("statekit.operation.duration")
    }
    assert counted == {("put_many", outcome): 1, ("delete_many", outcome): 1}


def test_a_queue_batch_is_recorded_by_its_worst_failed_message(
    telemetry: Captured, tmp_path: Path
) -> None:
    from statekit.observability.queue import InstrumentedQueue
    from statekit.observability.telemetry import active
    from statekit.queue import Queue
    from statekit.queue.backends.sqlite import SQLiteQueue
    from statekit.urls import parse_url

    class LastOneLost(SQLiteQueue):
        """Sends all but the last message of a batch, as when the service goes away."""

        def send_many(self, messages: Sequence[Any]) -> list[str | StatekitError]:
            return [*super().send_many(messages[:-1]), BackendUnavailable("sqlite", "send")]

    url = parse_url(f"sqlite:///{tmp_path}/q.db?queue=jobs", allowed_schemes={"sqlite"})
    backend = InstrumentedQueue(LastOneLost.from_url(url), url, active())
    sent = Queue(cast(QueueBackend, backend)).send_many([{"n": 1}, {"n": 2}])
    assert len(sent.ids) == 1 and list(sent.failed) == [1]
    [span] = telemetry.spans()
    assert attrs(span)[semconv.OUTCOME] == "unavailable"
    assert span.status.status_code.name == "ERROR"
    events = {
        a["statekit.queue.event"]: p.value for a, p in telemetry.points("statekit.queue.messages")
    }
    assert events == {"sent": 1}


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
    kinds = {attrs(s)[semconv.MESSAGING_OPERATION_TYPE] for s in telemetry.spans()}
    assert kinds == {"send", "receive", "settle"}


def test_open_store_of_the_embedded_default_traces_through_the_facade(
    telemetry: Captured, tmp_path: Path
) -> None:
    store = statekit.open_store(f"sqlite:///{tmp_path}/facade.db")
    store.put("p/k", {"x": 1})
    assert attrs(telemetry.spans()[-1])[semconv.DB_SYSTEM] == "sqlite"
    store.close()


def test_an_idempotent_replay_is_counted(telemetry: Captured, tmp_path: Path) -> None:
    store = statekit.open_store(f"sqlite:///{tmp_path}/idem.db")

    @statekit.idempotent(key="order_id", store=store)
    def charge(event: dict[str, str]) -> str:
        return f"charged {event['order_id']}"

    assert charge({"order_id": "o-1"}) == charge({"order_id": "o-1"}) == "charged o-1"
    replays = [p.value for _, p in telemetry.points("statekit.idempotency.replays")]
    assert replays == [1]


def test_a_client_opened_before_configure_is_not_the_one_open_returns_after() -> None:
    """One client per URL per process, but per telemetry choice: configure() after an
    open_* must not leave the process on the unwrapped client (the order of a test
    suite, or of a cold start, decided whether a cache was traced)."""
    import statekit
    from tests.observability.telemetry_fixture import telemetry_scope

    url = "memory://?max_entries=77"
    before = statekit.open_cache(url)
    assert type(before.backend).__name__ == "MemoryCache"
    with telemetry_scope() as captured:
        during = statekit.open_cache(url)
        assert during is not before
        assert type(during.backend).__name__ == "InstrumentedCache"
        during.get("missing")
        assert [span.name for span in captured.spans()] == ["get"]
    after = statekit.open_cache(url)
    assert type(after.backend).__name__ == "MemoryCache" and after is not during
    for client in (before, during, after):
        client.close()
