"""The events function as deployed: Pub/Sub pushes its envelope straight to the function URL.

modules/gcp/queue.py gives the work subscription a push config whose endpoint is
the events function's own URL (modules/gcp/stack.py), with no Eventarc trigger.
So what reaches the function is the push request: a JSON body
``{"message": {...}, "subscription": ..., "deliveryAttempt": N}`` and no ce-*
headers (the OIDC bearer token is checked by Cloud Run before the function
runs, so it is left out here). statekit.runtime.gcp must turn that body into the
message the consumer takes; these tests serve the example App's ``order-events``
function with statekit.runtime.gcp, as Cloud Run does, and POST exactly that body. A 2xx answer acks the message (Pub/Sub
push counts 102, 200, 201, 202 and 204 as an ack); anything else nacks it.

The app runs over sqlite files shared by this process (which places the order)
and the function's process (which records the event on it).
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

pytest.importorskip("functions_framework", reason="the gcp extra is not installed")

from handlers.app import Shop, get_app
from tests.runtime.test_gcp import FunctionServer, post

SUBSCRIPTION = "projects/statekit-test/subscriptions/sk-test-work"
# What Pub/Sub's push client sends besides the body (its User-Agent, from Pub/Sub's docs).
PUSH_HEADERS = {
    "content-type": "application/json",
    "user-agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
}


def push_body(data: bytes, message_id: str, delivery_attempt: int) -> bytes:
    """The JSON Pub/Sub POSTs for one message on a push subscription with a dead-letter
    policy (which adds ``deliveryAttempt``). Ids and times come in both spellings;
    a message published without attributes has none in the envelope."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "message": {
                "data": base64.b64encode(data).decode("ascii"),
                "messageId": message_id,
                "message_id": message_id,
                "publishTime": now,
                "publish_time": now,
            },
            "subscription": SUBSCRIPTION,
            "deliveryAttempt": delivery_attempt,
        }
    ).encode()


@dataclass
class EventsFunction:
    server: FunctionServer
    app: Shop

    def push(self, data: bytes, message_id: str, delivery_attempt: int) -> int:
        status, _, _ = post(
            self.server.url, push_body(data, message_id, delivery_attempt), PUSH_HEADERS
        )
        return status

    def deliveries(self, message_id: str) -> list[dict[str, Any]]:
        """The function's ``pubsub.delivery`` log lines for one message."""
        lines = []
        for line in self.server.log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # gunicorn's own lines
            if record.get("msg") == "pubsub.delivery" and record.get("message_id") == message_id:
                lines.append(record)
        return lines


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventsFunction]:
    state = tmp_path_factory.mktemp("gcp-push")
    env = {
        "STATEKIT_STORE_URL": f"sqlite://{state / 'store.db'}",
        "STATEKIT_QUEUE_URL": f"sqlite://{state / 'queue.db'}?max_attempts=5",
        "STATEKIT_WORKFLOW_URL": "local://",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        get_app.cache_clear()
        app = get_app()
        app.seed_products()
        process_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        server = FunctionServer("order-events", process_env, state / "pubsub.log")
        try:
            server.wait_ready()
            yield EventsFunction(server, app)
        finally:
            server.stop()
            get_app.cache_clear()


def place_order(app: Shop) -> tuple[str, bytes]:
    """An order placed through the app, and the order event it queued, as queued."""
    run = uuid.uuid4().hex[:8]
    app.add_item(f"c{run}", {"sku": "book", "qty": 1})
    order_id = app.place_order({"cart_id": f"c{run}"}, f"k{run}")["order_id"]
    for raw in app.queue.backend.receive(10, 0, 30):
        app.queue.backend.ack(raw)
        if json.loads(raw.data)["order_id"] == order_id:
            return order_id, raw.data.encode()
    raise AssertionError(f"order {order_id} queued no order event")


def recorded_events(app: Shop, order_id: str) -> list[str]:
    item = app.store.get(f"order-{order_id}/order")
    assert item is not None, order_id
    events: list[str] = item.value["events"]
    return events


def test_a_pushed_order_event_is_recorded_on_its_order(events: EventsFunction) -> None:
    order_id, data = place_order(events.app)
    message_id = f"m{uuid.uuid4().int % 10**16}"
    assert events.push(data, message_id, delivery_attempt=1) == 200, events.server.log.read_text()
    assert recorded_events(events.app, order_id) == ["order_placed"]
    # At-least-once: Pub/Sub may push the message again; it is applied once and acked.
    assert events.push(data, message_id, delivery_attempt=2) == 200
    assert recorded_events(events.app, order_id) == ["order_placed"]
    logged = events.deliveries(message_id)
    assert [line["delivery_attempt"] for line in logged] == [1, 2], logged
    assert all(line["subscription"] == SUBSCRIPTION for line in logged), logged


@pytest.mark.parametrize(
    "data",
    [
        b'{"type":"bogus","order_id":"o1"}',  # an event type the app does not know
        b'{"type":"order_placed","order_id":"onosuchorder"}',  # an order that does not exist
        b"not json",
    ],
    ids=["unknown-type", "unknown-order", "not-json"],
)
def test_a_pushed_poison_event_is_refused_at_every_attempt(
    events: EventsFunction, data: bytes
) -> None:
    """Refused (5xx: a nack) at every attempt, so Pub/Sub redelivers it until its
    max_delivery_attempts, then forwards it to the dead-letter topic."""
    message_id = f"m{uuid.uuid4().int % 10**16}"
    statuses = [events.push(data, message_id, attempt) for attempt in (1, 2, 5)]
    assert all(status >= 500 for status in statuses), statuses
    logged = events.deliveries(message_id)
    assert [line["delivery_attempt"] for line in logged] == [1, 2, 5], logged


def test_a_push_without_data_is_refused(events: EventsFunction) -> None:
    """A message of attributes only arrives without ``data``; statekit messages always
    carry a JSON body, so the push is refused (400): a nack, not a silent ack."""
    body = json.loads(push_body(b"", "m0", 1))
    del body["message"]["data"]
    body["message"]["attributes"] = {"type": "order_placed"}
    status, _, _ = post(events.server.url, json.dumps(body).encode(), PUSH_HEADERS)
    assert status == 400, status
