"""Google Cloud Functions (gen2) entry points: an HTTP function and a Pub/Sub CloudEvent function.

Served by functions-framework (``--target=http_handler`` or
``--target=pubsub_handler --signature-type=cloudevent``). It imports no other
cloud's SDK.

As deployed (modules/gcp/queue.py), the work subscription pushes straight to the
events function's URL: no Eventarc, so the request is Pub/Sub's push envelope
(``{"message": {...}, "subscription": ..., "deliveryAttempt": N}``) with no ce-*
headers. functions-framework turns that body into a CloudEvent whose data is
``{"message": {"data", "attributes", "messageId", "publishTime"}}`` and drops
``subscription`` and ``deliveryAttempt``; the handler reads those two from the
request itself. An Eventarc CloudEvent (data = the same envelope) works too.
"""

from __future__ import annotations

import base64
from typing import Any

import flask
import functions_framework
from flask import Request as FlaskRequest

from handlers.app import get_app
from handlers.consumer import consume
from handlers.http import Request, handle
from handlers.logs import log


@functions_framework.http
def http_handler(request: FlaskRequest) -> tuple[str, int, dict[str, str]]:
    response = handle(
        get_app(),
        Request(
            method=request.method,
            path=request.path,
            headers=dict(request.headers),
            body=request.get_data(),
            query=dict(request.args),
        ),
    )
    return response.text(), response.status, response.headers


def push_envelope(data: Any) -> dict[str, Any]:
    """The Pub/Sub envelope's top level: the event's data when it kept it (Eventarc),
    else the body as pushed, which functions-framework's conversion cut down (the
    function runs inside the Flask request, so the body is still readable)."""
    if isinstance(data, dict) and "deliveryAttempt" in data:
        return data
    body = flask.request.get_json(silent=True) if flask.has_request_context() else None
    return body if isinstance(body, dict) else {}


@functions_framework.cloud_event
def pubsub_handler(cloud_event: Any) -> None:
    """One Pub/Sub message per event; raising nacks it, so Pub/Sub redelivers it and,
    after the subscription's max delivery attempts, dead-letters it."""
    message = cloud_event.data["message"]
    message_id = message.get("messageId") or message.get("message_id", "")
    envelope = push_envelope(cloud_event.data)
    # deliveryAttempt is there only on a subscription with a dead-letter policy (ours has
    # one): the attempt that reaches max_delivery_attempts is the last before the DLQ.
    log(
        "pubsub.delivery",
        message_id=message_id,
        delivery_attempt=envelope.get("deliveryAttempt"),
        subscription=envelope.get("subscription") or cloud_event.data.get("subscription"),
    )
    body = base64.b64decode(message.get("data", ""))
    failed = consume([(message_id, body)])
    if failed:
        raise RuntimeError(f"order event {failed[0]} failed; Pub/Sub will redeliver it")
