"""Google Cloud Functions (gen2): ``handle`` is the entry point of every function of an App.

The package root's ``main.py`` is ``from statekit.runtime.gcp import handle``;
``STATEKIT_FUNCTION`` says which declared function this one is:

- http: the request, every path, as is;
- queue: a Pub/Sub push delivery (``{"message": {...}, "subscription": ...,
  "deliveryAttempt": N}``, POSTed to the function's URL; an Eventarc
  CloudEvent in binary mode has the same body). 200 acks the message; a failure
  answers 500, so Pub/Sub redelivers it and after ``max_delivery_attempts``
  dead-letters it. A push without ``data`` is 400 (statekit messages carry JSON);
- schedule: Cloud Scheduler's HTTP call (its OIDC token is checked by Cloud Run
  before the function runs); 200 done, 500 failed (Cloud Scheduler retries);
- ``activities``: Cloud Workflows' ``{"activity", "input"}``: 200 with the
  result as JSON, or 500 with ``{"error", "message"}``, which the workflow's
  retry policy retries and its ``except`` turns into compensation.

It imports no other cloud's SDK.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import functions_framework
from flask import Request as FlaskRequest

from statekit.app import App, Request
from statekit.app.correlation import CORRELATION_HEADER
from statekit.app.functions import Function
from statekit.queue import Message
from statekit.queue.messages import decode_body
from statekit.runtime.dispatch import (
    call_http,
    consume_one,
    current_function,
    error_message,
    error_name,
    fire,
    load_app,
    run_activity,
)
from statekit.runtime.logs import log

JSON_HEADERS = {"content-type": "application/json"}
Answer = tuple[bytes | str, int, dict[str, str]]


@functions_framework.http
def handle(request: FlaskRequest) -> Answer:
    app = load_app()
    function = current_function(app)
    if function is None:
        return activity(app, request)
    if function.kind == "http":
        return http(app, function, request)
    if function.kind == "queue":
        return pubsub_push(app, function, request)
    return scheduled(app, function, request)


def http(app: App, function: Function, request: FlaskRequest) -> Answer:
    portable = Request(
        method=request.method,
        path=request.path,
        query=dict(request.args),
        headers=dict(request.headers),
        body=request.get_data(),
    )
    response, data, headers = call_http(app, function, portable)
    return data, response.status, headers


def pubsub_push(app: App, function: Function, request: FlaskRequest) -> Answer:
    envelope = request.get_json(silent=True)
    message = envelope.get("message") if isinstance(envelope, dict) else None
    if not isinstance(message, dict) or "data" not in message:
        log("pubsub.refused", function=function.name, reason="not a push with message.data")
        return _json(
            {"error": "bad_request", "message": "expected a Pub/Sub push with message.data"}, 400
        )
    assert isinstance(envelope, dict)
    message_id = str(message.get("messageId") or message.get("message_id") or "")
    attempt = envelope.get("deliveryAttempt")
    # deliveryAttempt is there only on a subscription with a dead-letter policy: the
    # attempt that reaches max_delivery_attempts is the last before the dead-letter topic.
    log(
        "pubsub.delivery",
        message_id=message_id,
        delivery_attempt=attempt,
        subscription=envelope.get("subscription"),
    )
    try:
        text = base64.b64decode(message["data"], validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, TypeError):
        return _json({"error": "bad_request", "message": "message.data is not base64"}, 400)
    received = Message(
        id=message_id,
        body=decode_body(text),
        attempts=attempt if isinstance(attempt, int) else 1,
        receipt=None,
    )
    try:
        consume_one(app, function, received)
    except Exception:
        return _json({"error": "failed", "message": f"message {message_id} failed"}, 500)
    return _json({"ok": True}, 200)


def scheduled(app: App, function: Function, request: FlaskRequest) -> Answer:
    try:
        fire(app, function, request.headers.get(CORRELATION_HEADER))
    except Exception:
        return _json({"error": "failed", "message": f"job {function.name} failed; see logs"}, 500)
    return _json({"ok": True}, 200)


def activity(app: App, request: FlaskRequest) -> Answer:
    envelope = request.get_json(silent=True)
    try:
        result = run_activity(app, envelope)
    except Exception as exc:
        return _json({"error": error_name(exc), "message": error_message(exc)}, 500)
    return _json(result, 200)


def _json(value: Any, status: int) -> Answer:
    return json.dumps(value, default=str), status, dict(JSON_HEADERS)
