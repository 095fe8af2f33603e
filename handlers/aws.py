"""AWS Lambda entry points: API Gateway HTTP API (v2) events, SQS batches, saga activities.

Each translates the event to the app's call and back; nothing else. It imports
no other cloud's SDK (tests/handlers checks it).
"""

from __future__ import annotations

import base64
from typing import Any

from handlers.activities import run_activity
from handlers.app import get_app
from handlers.consumer import consume
from handlers.http import Request, handle


def http_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body")
    if body is not None and event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    response = handle(
        get_app(),
        Request(
            method=event["requestContext"]["http"]["method"],
            path=event.get("rawPath", "/"),
            headers=event.get("headers") or {},
            body=body,
            query=event.get("queryStringParameters") or {},
        ),
    )
    return {"statusCode": response.status, "headers": response.headers, "body": response.text()}


def queue_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS event source mapping with ReportBatchItemFailures: only failures are retried."""
    failed = consume((record["messageId"], record["body"]) for record in event.get("Records", []))
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}


def activity_handler(event: dict[str, Any], context: Any) -> Any:
    """Step Functions Task: ``{"activity": name, "input": ...}``; a raised error is its Catch."""
    return run_activity(event)
