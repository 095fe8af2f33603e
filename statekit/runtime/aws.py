"""AWS Lambda: ``statekit.runtime.aws.handle`` is the handler of every function of an App.

``STATEKIT_FUNCTION`` says which declared function this Lambda is, so its kind
says what the event is:

- http: an API Gateway HTTP API (v2) or Function URL event (a REST API v1
  event is read too); the answer is the proxy integration's response;
- queue: an SQS batch from an event source mapping with
  ``ReportBatchItemFailures``; the answer lists only the failed records;
- schedule: whatever EventBridge Scheduler sends (the job takes no input);
- ``activities``: a Step Functions task's ``{"activity", "input"}`` (a
  ``.waitForTaskToken`` task adds ``"task_token"``: the activity reads it with
  ``statekit.app.current_task_token()``); an error raised is the task's error.

It imports no cloud SDK at all: Lambda hands the event over as a dict.
"""

from __future__ import annotations

import base64
from typing import Any

from statekit.app import App, Request
from statekit.app.functions import Function
from statekit.app.task_token import task_token_scope
from statekit.observability.platform import flush_platform, invocation_scope
from statekit.queue import handle_sqs_event
from statekit.runtime.dispatch import (
    RuntimeConfigError,
    call_http,
    consume_one,
    current_function,
    fire,
    load_app,
    run_activity,
    start_telemetry,
)

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def handle(event: Any, context: Any) -> Any:
    # Set up at the first cold-start call (cached after), so the first invocation's
    # spans already hang from its X-Ray segment (invocation_scope).
    start_telemetry()
    try:
        with invocation_scope():
            return _handle(event)
    finally:
        # Lambda freezes the instance once the answer is returned: export this
        # invocation's spans and metrics now (nothing to do without telemetry).
        flush_platform()


def _handle(event: Any) -> Any:
    app = load_app()
    function = current_function(app)
    if function is None:
        return activity(app, event)
    if function.kind == "http":
        return http(app, function, event)
    if function.kind == "queue":
        return sqs(app, function, event)
    fire(app, function, _scheduled_id(event))
    return {"ok": True}


def http(app: App, function: Function, event: Any) -> dict[str, Any]:
    response, data, headers = call_http(app, function, http_request(event))
    text = _is_text(headers.get("content-type", ""))
    return {
        "statusCode": response.status,
        "headers": headers,
        "body": data.decode("utf-8") if text else base64.b64encode(data).decode("ascii"),
        "isBase64Encoded": not text,
    }


def http_request(event: Any) -> Request:
    """The portable request of a payload format 2.0 event (HTTP API, Function URL) or 1.0."""
    if not isinstance(event, dict) or "requestContext" not in event:
        raise RuntimeConfigError(
            "an HTTP function got an event that is not from API Gateway or a Function URL"
        )
    body: Any = event.get("body") or b""
    if body and event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    headers = dict(event.get("headers") or {})
    if event.get("cookies"):  # format 2.0 moves cookies out of the headers
        headers["cookie"] = "; ".join(event["cookies"])
    if event.get("version") == "2.0" or "rawPath" in event:
        method = event["requestContext"]["http"]["method"]
        path = event.get("rawPath") or "/"
    else:
        method, path = event.get("httpMethod", "GET"), event.get("path") or "/"
    return Request(
        method=method,
        path=path,
        query=dict(event.get("queryStringParameters") or {}),
        headers=headers,
        body=body,
    )


def sqs(app: App, function: Function, event: Any) -> dict[str, list[dict[str, str]]]:
    """Only the failed records are reported; the event source mapping deletes the rest."""
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        raise RuntimeConfigError(
            f"queue consumer {function.name!r} got an event that is not an SQS batch"
        )
    return handle_sqs_event(event, lambda message: consume_one(app, function, message))


def activity(app: App, event: Any) -> Any:
    token = event.get("task_token") if isinstance(event, dict) else None
    with task_token_scope(token if isinstance(token, str) else None):
        return run_activity(app, event)


def _scheduled_id(event: Any) -> str | None:
    return event.get("id") if isinstance(event, dict) and isinstance(event.get("id"), str) else None


def _is_text(content_type: str) -> bool:
    return content_type.startswith(_TEXT_TYPES)
