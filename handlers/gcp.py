"""Google Cloud Functions (gen2) entry points: an HTTP function and a Pub/Sub CloudEvent function.

Served by functions-framework (``--target=http_handler`` or
``--target=pubsub_handler --signature-type=cloudevent``). It imports no other
cloud's SDK.
"""

from __future__ import annotations

import base64
from typing import Any

import functions_framework
from flask import Request as FlaskRequest

from handlers.app import get_app
from handlers.consumer import consume
from handlers.http import Request, handle


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


@functions_framework.cloud_event
def pubsub_handler(cloud_event: Any) -> None:
    """One Pub/Sub message per event; raising nacks it, so Pub/Sub redelivers it and,
    after the subscription's max delivery attempts, dead-letters it."""
    message = cloud_event.data["message"]
    body = base64.b64decode(message.get("data", ""))
    failed = consume([(message.get("messageId") or message.get("message_id", ""), body)])
    if failed:
        raise RuntimeError(f"order event {failed[0]} failed; Pub/Sub will redeliver it")
