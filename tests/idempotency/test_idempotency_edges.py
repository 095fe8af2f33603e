"""``@idempotent``: keys from events, bad options, a real crash, stores with fewer
capabilities, a store outage mid-call."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.trace import StatusCode

from statekit import InvalidOption, Store, Unsupported
from statekit.idempotency import (
    AlreadyInProgress,
    IdempotencyKeyError,
    IdempotencyKeyMismatch,
    idempotent,
)
from statekit.observability import semconv
from statekit.observability.telemetry import IDEMPOTENCY_REPLAYS
from statekit.store import ALL_CAPABILITIES, Capability, open_store
from statekit.store.backends.memory import MemoryStore
from tests.observability.telemetry_fixture import attrs, telemetry_scope
from tests.standins.redis import RedisServer

ROOT = Path(__file__).resolve().parents[2]


def echo(event: Any, *_: Any) -> Any:
    return event


def test_jmespath_key_with_a_json_body() -> None:
    runs: list[Any] = []

    @idempotent(store=Store(MemoryStore()), key="from_json(body).order_id")
    def api(event: dict[str, Any]) -> str:
        runs.append(event)
        return "created"

    assert api({"body": '{"order_id": 7, "x": 1}'}) == "created"
    assert api({"body": '{"order_id": 7, "x": 1}'}) == "created"
    assert len(runs) == 1


def test_multiselect_key_with_nothing_found_is_a_clear_error() -> None:
    handler = idempotent(store=Store(MemoryStore()), key="[user, order]")(echo)
    with pytest.raises(IdempotencyKeyError, match="key is empty"):
        handler({"other": 1})


@pytest.mark.parametrize("event", [{"order": None}, {"order": ""}, {}])
def test_missing_key_in_the_event_is_a_clear_error(event: dict[str, Any]) -> None:
    handler = idempotent(store=Store(MemoryStore()), key="order")(echo)
    with pytest.raises(IdempotencyKeyError, match="check the key selector"):
        handler(event)


def test_jmespath_key_needs_an_event_dict() -> None:
    handler = idempotent(store=Store(MemoryStore()), key="order")(echo)
    with pytest.raises(IdempotencyKeyError, match="must be a dict or list, got str"):
        handler("not an event")


def test_arguments_that_are_not_json_need_a_payload_selector() -> None:
    store = Store(MemoryStore())

    @idempotent(store=store, key=lambda conn, order: order)
    def with_connection(conn: object, order: str) -> str:
        return order

    with pytest.raises(IdempotencyKeyError, match="payload="):
        with_connection(object(), "o-1")

    @idempotent(store=store, key=lambda conn, order: order, payload=lambda conn, order: order)
    def with_payload(conn: object, order: str) -> str:
        return order

    assert with_payload(object(), "o-1") == "o-1"


@pytest.mark.parametrize(
    ("options", "rule"),
    [
        ({"key": "order["}, "invalid JMESPath"),
        ({"key": ""}, "JMESPath expression"),
        ({"key": 42}, "callable"),
        ({"key": "a", "ttl": 0}, "ttl must be a positive"),
        ({"key": "a", "ttl": None}, "ttl must be a positive"),
        ({"key": "a", "ttl": 10**10}, "ttl must be at most"),
        ({"key": "a", "in_progress_expiry": -1}, "in_progress_expiry"),
        ({"key": "a", "on_duplicate": "retry"}, "'fail' or 'wait'"),
        ({"key": "a", "wait_timeout": "10"}, "wait_timeout"),
        ({"key": "a", "store": 123}, "store must be"),
        ({"key": "a", "namespace": ""}, "namespace"),
        ({"key": "a", "read_first": "yes"}, "read_first"),
    ],
)
def test_bad_options_are_refused_at_decoration(options: dict[str, Any], rule: str) -> None:
    with pytest.raises(InvalidOption, match=rule):
        idempotent(**options)


def test_async_functions_run_once_and_waiters_share_the_result() -> None:
    runs: list[int] = []

    @idempotent(store=Store(MemoryStore()), key="a", on_duplicate="wait", wait_timeout=5)
    async def handler(event: dict[str, int]) -> dict[str, int]:
        runs.append(event["a"])
        await asyncio.sleep(0.2)  # duplicates wait on the event loop, not blocking it
        return {"done": event["a"]}

    async def burst() -> list[Any]:
        return await asyncio.gather(*(handler({"a": 1}) for _ in range(10)))

    assert asyncio.run(burst()) == [{"done": 1}] * 10
    assert runs == [1]


def test_async_failure_removes_the_record() -> None:
    runs: list[int] = []

    @idempotent(store=Store(MemoryStore()), key="a")
    async def handler(event: dict[str, int]) -> int:
        runs.append(event["a"])
        if len(runs) == 1:
            raise RuntimeError("first try fails")
        return event["a"]

    with pytest.raises(RuntimeError):
        asyncio.run(handler({"a": 1}))
    assert asyncio.run(handler({"a": 1})) == 1
    assert asyncio.run(handler({"a": 1})) == 1
    assert runs == [1, 1]


class NoConditionsMemory(MemoryStore):
    capabilities = ALL_CAPABILITIES - {Capability.CONDITIONAL_WRITES}


class NoTTLMemory(MemoryStore):
    capabilities = ALL_CAPABILITIES - {Capability.TTL}


def test_a_store_without_conditional_writes_is_refused() -> None:
    handler = idempotent(store=Store(NoConditionsMemory()), key="a")(echo)
    with pytest.raises(Unsupported, match="conditional_writes"):
        handler({"a": 1})


def test_a_store_without_ttl_still_expires_records() -> None:
    store = Store(NoTTLMemory())
    runs: list[int] = []

    @idempotent(store=store, key="a", ttl=0.3)
    def handler(event: dict[str, int]) -> int:
        runs.append(event["a"])
        return event["a"]

    handler({"a": 1})
    handler({"a": 1})
    time.sleep(0.4)
    handler({"a": 1})  # the record's own expiry rules; taken over with if_match
    assert runs == [1, 1]


def test_store_url_is_opened_at_the_first_call(tmp_path: Path) -> None:
    handler = idempotent(store=f"sqlite://{tmp_path / 'lazy.db'}", key="a")(echo)
    assert not (tmp_path / "lazy.db").exists()
    assert handler({"a": 1}) == {"a": 1}
    assert (tmp_path / "lazy.db").exists()


CRASHING_CALL = """
import os, sys
from statekit.idempotency import idempotent

@idempotent(store=sys.argv[1], key="order", namespace="crash-test", in_progress_expiry=2)
def handler(event):
    os._exit(3)  # the process dies mid-call: no cleanup runs

handler({"order": "o-1"})
"""


def test_a_crashed_process_leaves_a_record_that_is_taken_over(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'crash.db'}"
    crashed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASHING_CALL), url], cwd=ROOT, check=False
    )
    assert crashed.returncode == 3
    runs: list[str] = []

    @idempotent(store=url, key="order", namespace="crash-test")
    def handler(event: dict[str, str]) -> str:
        runs.append(event["order"])
        return "done"

    with pytest.raises(AlreadyInProgress) as refused:
        handler({"order": "o-1"})  # the dead call's record is still in progress
    assert runs == []
    time.sleep(max(0.0, refused.value.until - time.time()) + 0.05)
    assert handler({"order": "o-1"}) == "done"  # taken over (if_match on its etag)
    assert handler({"order": "o-1"}) == "done"  # and then replayed
    assert runs == ["o-1"]


def test_a_redelivered_event_replays_despite_delivery_metadata() -> None:
    runs: list[Any] = []

    @idempotent(store=Store(MemoryStore()), key="from_json(body).order_id")
    def api(event: dict[str, Any], context: Any = None) -> str:
        runs.append(event)
        return "created"

    def delivery(request_id: str, body: str) -> dict[str, Any]:
        return {
            "body": body,
            "requestContext": {"requestId": request_id, "timeEpoch": time.time_ns()},
            "headers": {"X-Amzn-Trace-Id": request_id},
        }

    assert api(delivery("r-1", '{"order_id": 1}')) == "created"
    assert api(delivery("r-2", '{"order_id": 1}')) == "created"  # a client retry
    with pytest.raises(IdempotencyKeyMismatch):
        api(delivery("r-3", '{"order_id": 1, "amount": 5}'))
    assert len(runs) == 1


def test_cache_aside_refuses_a_non_string_key_clearly() -> None:
    from statekit import InvalidKey
    from statekit.cache import open_cache
    from statekit.cache.aside import CacheAside

    aside = CacheAside(Store(MemoryStore()), open_cache(), ttl=5, prefix="x:")
    with pytest.raises(InvalidKey, match="must be strings"):
        aside.get(42)  # type: ignore[arg-type]


class FailsSecondWrite(MemoryStore):
    """A memory backend whose result write fails, as when the store goes away mid-call."""

    def put(self, op: Any, now: float) -> str:
        if op.condition.if_match is not None:
            from statekit import BackendUnavailable

            raise BackendUnavailable("memory", "put (test: store went away)")
        return super().put(op, now)


def test_result_is_returned_when_only_storing_it_fails(caplog: pytest.LogCaptureFixture) -> None:
    store = Store(FailsSecondWrite())
    handler = idempotent(store=store, key="a")(echo)
    assert handler({"a": 1}) == {"a": 1}
    assert "could not be stored" in caplog.text
    with pytest.raises(AlreadyInProgress):
        handler({"a": 1})  # refused until the in-progress record expires


def test_a_store_outage_while_completing_is_traced_unavailable_and_the_result_returned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The same outage on a real redis-server that stops while the call runs: the claim's
    span is ok, the completion's span is the error with outcome ``unavailable`` (the
    wrapper logs it and returns the result), and nothing is counted as a replay."""
    pytest.importorskip("redis")
    server = RedisServer(tmp_path)  # our own: other tests never see it down
    server.start()
    try:
        with telemetry_scope() as captured:
            store = open_store(f"{server.url}?prefix=idem-outage:")

            @idempotent(store=store, key="order")
            def charge(event: dict[str, Any]) -> str:
                server.stop()  # the store goes away while the call runs
                return "charged"

            assert charge({"order": "o-1"}) == "charged"
            store.close()
            spans = captured.spans()
            assert [attrs(s)[semconv.OUTCOME] for s in spans] == ["ok", "unavailable"]
            assert [s.status.status_code for s in spans] == [StatusCode.UNSET, StatusCode.ERROR]
            assert attrs(spans[1])[semconv.ERROR_TYPE] == "BackendUnavailable"
            assert captured.points(IDEMPOTENCY_REPLAYS) == []
    finally:
        server.stop()
    assert "could not be stored" in caplog.text
