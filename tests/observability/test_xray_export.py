"""statekit's spans as X-Ray subsegments, sent to a real UDP socket on 127.0.0.1 (the daemon's side).

Real calls: the store on DynamoDB (moto) and on sqlite, the cache on redis-server and
on a closed port. The tracer provider is the one the ``aws`` platform builds (sampled
by parent only); the invocation's segment comes from an ``_X_AMZN_TRACE_ID`` value.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased

import statekit
from statekit import observability
from statekit.errors import BackendUnavailable, Conflict
from statekit.observability.xray import (
    XRaySpanExporter,
    daemon_address,
    invocation_context,
    parse_trace_header,
)
from tests.observability.xray_daemon import Daemon, xray_daemon
from tests.standins.dynamodb_table import create_store_table

ROOT_ID = "1-5759e988-bd862e3fe1be46a994272793"
PARENT_ID = "53995c3f42cd8ad8"
SAMPLED = f"Root={ROOT_ID};Parent={PARENT_ID};Sampled=1;Lineage=a87bd80c:0"
UNSAMPLED = f"Root={ROOT_ID};Parent={PARENT_ID};Sampled=0"
SECRET = "4111-1111-1111-secret"
ANNOTATION_KEY = re.compile(r"[A-Za-z0-9_]+")
HEX16 = re.compile(r"[0-9a-f]{16}")


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    with xray_daemon() as found:
        yield found


@pytest.fixture
def traced(daemon: Daemon) -> Iterator[Daemon]:
    """statekit's spans through the exporter to the daemon, synchronously (one datagram a span)."""
    exporter = XRaySpanExporter(daemon_address(daemon.address))
    tracer_provider = TracerProvider(sampler=ParentBased(ALWAYS_OFF))
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider()
    observability.configure(tracer_provider, meter_provider)
    try:
        yield daemon
    finally:
        observability.reset()
        tracer_provider.shutdown()
        meter_provider.shutdown()


@pytest.fixture
def dynamodb_url(standins: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    moto = standins.get("moto")
    for name, value in moto.client_env().items():
        monkeypatch.setenv(name, value)
    table = f"xray-{uuid.uuid4().hex[:8]}"
    create_store_table(moto.endpoint, table)
    return f"dynamodb://{table}?region=us-east-1"


def check_subsegment(document: dict[str, Any], started: float, ended: float) -> None:
    """The fields the segment-document specification asks of a subsegment sent on its own."""
    assert HEX16.fullmatch(document["id"])
    assert document["trace_id"] == ROOT_ID
    assert document["parent_id"] == PARENT_ID
    assert document["type"] == "subsegment"
    assert started <= document["start_time"] <= document["end_time"] <= ended
    assert isinstance(document["start_time"], float)
    assert 1 <= len(document["name"]) <= 200
    assert document.get("namespace") in (None, "aws", "remote")
    for key, value in document.get("annotations", {}).items():
        assert ANNOTATION_KEY.fullmatch(key), key
        assert isinstance(value, str | int | float | bool), (key, value)
    assert set(document["metadata"]) == {"statekit"}


def test_sampled_calls_become_subsegments_of_the_invocation_segment(
    traced: Daemon, dynamodb_url: str, standins: Any, tmp_path: Path
) -> None:
    started = time.time()
    with invocation_context(SAMPLED), observability.correlation_scope("req-42"):
        with statekit.open_store(dynamodb_url) as store:
            store.put("orders/o-1", {"card": SECRET})
            with pytest.raises(Conflict):
                store.put("orders/o-1", {"card": SECRET}, if_absent=True)
        with statekit.open_cache(standins.get("redis").url) as cache:
            cache.get("orders/o-1")
        with statekit.open_store(f"sqlite:///{tmp_path}/state.db") as local:
            local.get("orders/o-1")
    documents = traced.receive(4)
    ended = time.time()
    for document in documents:
        check_subsegment(document, started, ended)
    put, conflict, cache_get, local_get = documents

    assert put["name"] == "DynamoDB" and put["namespace"] == "aws"
    table = dynamodb_url.removeprefix("dynamodb://").split("?")[0]
    assert put["aws"] == {"operation": "put", "table_name": table}
    assert put["annotations"] == {
        "db_system_name": "aws.dynamodb",
        "db_operation_name": "put",
        "statekit_outcome": "ok",
        "statekit_correlation_id": "req-42",  # a request's trace is found by its id
    }
    assert put["metadata"]["statekit"]["db.collection.name"] == table
    assert put["metadata"]["statekit"]["statekit.partition"] == "orders"
    assert put["metadata"]["statekit"]["span"].startswith("put ")
    assert not ({"fault", "error", "cause"} & set(put))

    # A Conflict is an answer: annotated, neither a fault nor an error.
    assert conflict["annotations"]["statekit_outcome"] == "conflict"
    assert conflict["annotations"]["statekit_conflict"] is True
    assert conflict["annotations"]["error_type"] == "Conflict"
    assert not ({"fault", "error", "cause"} & set(conflict))

    assert cache_get["name"] == "redis" and cache_get["namespace"] == "remote"
    assert cache_get["annotations"]["statekit_cache_hit"] is False
    # An embedded backend is local work: no namespace, the span's own name.
    assert "namespace" not in local_get and local_get["name"].startswith("get ")
    # Never a value or a secret in what leaves the function.
    assert all(SECRET.encode() not in raw for raw in traced.raw)


def test_an_unsampled_invocation_and_work_outside_any_invocation_send_nothing(
    traced: Daemon, tmp_path: Path
) -> None:
    with statekit.open_store(f"sqlite:///{tmp_path}/state.db") as store:
        with invocation_context(UNSAMPLED):
            store.put("orders/o-1", {"n": 1})
            store.get("orders/o-1")
        store.get("orders/o-1")  # no segment to hang from: not recorded
        with invocation_context(None):
            store.get("orders/o-1")
        assert traced.quiet_for(0.5) == []
        # The daemon does hear a sampled one (so the silence above was the exporter's).
        with invocation_context(SAMPLED):
            store.get("orders/o-1")
    (document,) = traced.receive(1)
    assert document["parent_id"] == PARENT_ID
    assert traced.quiet_for(0.2) == []


def test_an_unavailable_backend_is_a_fault_with_the_error_class_only(traced: Daemon) -> None:
    with (
        invocation_context(SAMPLED),
        statekit.open_cache("redis://127.0.0.1:9/0") as cache,
        pytest.raises(BackendUnavailable),
    ):
        cache.get("orders/secret-key-77")
    (document,) = traced.receive(1)
    assert document["fault"] is True and "error" not in document
    assert document["annotations"]["statekit_outcome"] == "unavailable"
    (exception,) = document["cause"]["exceptions"]
    assert exception == {"id": document["id"], "type": "BackendUnavailable"}
    assert b"secret-key-77" not in traced.raw[0], "the message (which names the key) is not sent"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SAMPLED, (ROOT_ID, PARENT_ID, True)),
        (UNSAMPLED, (ROOT_ID, PARENT_ID, False)),
        (f"Root={ROOT_ID};Parent={PARENT_ID}", (ROOT_ID, PARENT_ID, False)),
        (f"Parent={PARENT_ID};Sampled=1;Root={ROOT_ID.upper()}", (ROOT_ID, PARENT_ID, True)),
        (f"Root={ROOT_ID};Sampled=1", None),  # no segment to hang from
        (f"Root=1-zz;Parent={PARENT_ID};Sampled=1", None),
        ("", None),
        (None, None),
    ],
)
def test_the_trace_header(value: str | None, expected: tuple[str, str, bool] | None) -> None:
    header = parse_trace_header(value)
    assert (None if header is None else (header.root, header.parent, header.sampled)) == expected


def test_the_daemon_address_forms() -> None:
    assert daemon_address(None) == ("127.0.0.1", 2000)
    assert daemon_address("169.254.79.129:2000") == ("169.254.79.129", 2000)
    assert daemon_address("tcp:127.0.0.1:2000 udp:127.0.0.2:2001") == ("127.0.0.2", 2001)
    with pytest.raises(ValueError, match="AWS_XRAY_DAEMON_ADDRESS='nowhere' is not host:port"):
        daemon_address("nowhere")
