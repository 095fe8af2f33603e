"""The runtime adapters and statekit's telemetry: the request's correlation id on every state
operation a handler makes, and the platform's telemetry set up once per cold start, first.

Driven through ``statekit.runtime.aws.handle`` (its events are plain dicts; the dispatch is
shared by the three clouds), over the embedded store, with the OpenTelemetry SDK's
in-memory exporters given to ``statekit.observability.configure`` (the process's global
providers are never set here).
"""

from __future__ import annotations

import json
import logging
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from statekit.observability import semconv
from statekit.runtime import aws, dispatch
from tests.observability.telemetry_fixture import Captured, captured_telemetry

# What happened first at a cold start, written by the start-up hook and the App's module.
ORDER: list[str] = []


@pytest.fixture
def telemetry() -> Iterator[Captured]:
    yield from captured_telemetry()


@pytest.fixture
def app_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh App whose every kind of handler writes to the store (a unique package name)."""
    name = f"sktel_{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "app.py").write_text(
        textwrap.dedent(
            f"""
            import statekit
            from statekit.app import App, Http, QueueConsumer, Response, Schedule, activity
            from statekit.workflows import Step, Workflow
            from tests.runtime.test_telemetry import ORDER

            ORDER.append("app module")
            STORE = statekit.open_store({f"sqlite:///{tmp_path}/state.db"!r})

            def handle(request):
                STORE.put("shop/cart-42", {{"items": 1}})
                STORE.update("shop/cart-42", lambda cart: {{"items": cart["items"] + 1}})
                return Response(200, {{"items": STORE.get("shop/cart-42").value["items"]}})

            def consume(message):
                STORE.put("orders/" + message.id, "seen")

            def nightly():
                STORE.delete("shop/cart-42")

            @activity("stamp")
            def stamp(value):
                STORE.put("stamps/" + value["order"], "done")
                return value

            APP = App("tel", code=[{name!r}], functions=[
                Http("api", __name__ + ":handle"),
                QueueConsumer("orders", __name__ + ":consume"),
                Schedule("nightly", __name__ + ":nightly", cron="0 3 * * *"),
            ], workflows=[Workflow("stamping", [Step("stamp", activity="stamp")],
                                   activities=["stamp"])])
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = f"{name}.app:APP"
    monkeypatch.setenv("STATEKIT_APP", spec)
    return spec


def _cold_start(monkeypatch: pytest.MonkeyPatch, function: str) -> None:
    """A new instance: nothing loaded and the start-up hook not yet run."""
    monkeypatch.setenv("STATEKIT_FUNCTION", function)
    dispatch.start_telemetry.cache_clear()
    dispatch._loaded.cache_clear()


def _http_event(correlation_id: str) -> dict[str, Any]:
    return {
        "version": "2.0",
        "rawPath": "/",
        "headers": {"x-correlation-id": correlation_id},
        "requestContext": {"http": {"method": "POST"}},
        "body": "",
    }


def _correlation_ids(spans: list[Any]) -> list[tuple[str, str | None]]:
    return [(span.name, (span.attributes or {}).get(semconv.CORRELATION_ID)) for span in spans]


def test_an_http_handler_s_state_operations_carry_the_request_s_correlation_id(
    app_spec: str,
    telemetry: Captured,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _cold_start(monkeypatch, "api")
    with caplog.at_level(logging.INFO, logger="statekit.mutations"):
        answer = aws.handle(_http_event("req-abc-1"), None)
        second = aws.handle(_http_event("req-abc-2"), None)
    assert answer["statusCode"] == 200 and json.loads(answer["body"]) == {"items": 2}
    assert answer["headers"]["x-correlation-id"] == "req-abc-1"
    assert second["headers"]["x-correlation-id"] == "req-abc-2"

    seen = _correlation_ids(telemetry.spans())
    operations = [name.split()[0] for name, _ in seen]
    # put, then update's own read and conditional write and its span, then the get
    assert operations == ["put", "get", "put", "update", "get"] * 2
    assert {cid for _, cid in seen[:5]} == {"req-abc-1"}
    assert {cid for _, cid in seen[5:]} == {"req-abc-2"}

    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "statekit.mutations"]
    assert [(r["operation"], r["correlation_id"]) for r in records] == [
        ("put", "req-abc-1"),
        ("put", "req-abc-1"),
        ("put", "req-abc-2"),
        ("put", "req-abc-2"),
    ]


def test_a_made_up_correlation_id_is_the_same_in_the_answer_and_the_spans(
    app_spec: str, telemetry: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cold_start(monkeypatch, "api")
    event = _http_event("x")
    event["headers"] = {}  # the caller sent none: the adapter makes one
    answer = aws.handle(event, None)
    made = answer["headers"]["x-correlation-id"]
    assert made and {cid for _, cid in _correlation_ids(telemetry.spans())} == {made}


def test_queue_schedule_and_activity_calls_carry_their_correlation_ids(
    app_spec: str, telemetry: Captured, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cold_start(monkeypatch, "orders")
    batch = {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r-1",
                "body": json.dumps({"order": "o-1", "correlation_id": "from-message"}),
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
            }
        ]
    }
    assert aws.handle(batch, None) == {"batchItemFailures": []}
    assert _correlation_ids(telemetry.spans())[-1][1] == "from-message"

    _cold_start(monkeypatch, "nightly")
    aws.handle({"id": "scheduler-run-7"}, None)
    assert _correlation_ids(telemetry.spans())[-1] == (
        _correlation_ids(telemetry.spans())[-1][0],
        "scheduler-run-7",
    )
    assert telemetry.spans()[-1].name.startswith("delete")

    _cold_start(monkeypatch, "activities")
    envelope = {"activity": "stamp", "input": {"order": "o-1", "correlation_id": "saga-9"}}
    assert aws.handle(envelope, None) == envelope["input"]
    assert _correlation_ids(telemetry.spans())[-1][1] == "saga-9"


def test_telemetry_is_set_up_once_per_cold_start_before_the_app_opens_anything(
    app_spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from statekit.observability import platform

    def configure_for_platform(service_name: str | None = None) -> None:
        ORDER.append("telemetry")

    monkeypatch.setattr(platform, "configure_for_platform", configure_for_platform)
    ORDER.clear()
    _cold_start(monkeypatch, "api")
    aws.handle(_http_event("one"), None)
    aws.handle(_http_event("two"), None)
    assert ORDER == ["telemetry", "app module"]


def test_a_failing_telemetry_set_up_never_breaks_a_cold_start(
    app_spec: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from statekit.observability import platform
    from statekit.runtime.logs import get_logger

    def configure_for_platform(service_name: str | None = None) -> None:
        raise RuntimeError("exporter misconfigured")

    monkeypatch.setattr(platform, "configure_for_platform", configure_for_platform)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    get_logger().addHandler(handler)  # the runtime's JSON logger does not propagate
    try:
        _cold_start(monkeypatch, "api")
        answer = aws.handle(_http_event("still-up"), None)
    finally:
        get_logger().removeHandler(handler)
    assert answer["statusCode"] == 200
    failure = next(r for r in records if r.getMessage() == "runtime.telemetry_failed")
    assert failure.levelno == logging.ERROR and failure.exc_info is not None
    assert str(failure.exc_info[1]) == "exporter misconfigured"
