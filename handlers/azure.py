"""Azure Functions (Python v2 programming model) entry points.

An HTTP trigger for the API, a queue trigger for order events (the runtime
moves a message that failed ``maxDequeueCount`` times to ``<queue>-poison``),
and the order saga as a Durable Functions orchestrator with one activity
function. The deployment's ``function_app.py`` is ``from handlers.azure import app``.
It imports no other cloud's SDK.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from handlers.activities import run_activity as run_saga_activity
from handlers.app import get_app
from handlers.consumer import consume
from handlers.http import Request, handle
from handlers.saga import ORDER_SAGA
from statekit.workflows.engines.durable.orchestrator import orchestrator_function

QUEUE_NAME_SETTING = "%STATEKIT_QUEUE_NAME%"
QUEUE_CONNECTION_SETTING = "STATEKIT_QUEUE_CONNECTION"
ACTIVITY_FUNCTION = "run_activity"

app = df.DFApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="{*path}", methods=["GET", "POST", "DELETE"])
def http_api(req: func.HttpRequest) -> func.HttpResponse:
    path = "/" + (req.route_params.get("path") or "").lstrip("/")
    response = handle(
        get_app(),
        Request(
            method=req.method,
            path=path,
            headers=dict(req.headers),
            body=req.get_body(),
            query=dict(req.params),
        ),
    )
    return func.HttpResponse(response.text(), status_code=response.status, headers=response.headers)


@app.queue_trigger(
    arg_name="msg", queue_name=QUEUE_NAME_SETTING, connection=QUEUE_CONNECTION_SETTING
)
def order_events(msg: func.QueueMessage) -> None:
    """Raising makes the runtime retry the message, then move it to the poison queue."""
    failed = consume([(msg.id or "", msg.get_body())])
    if failed:
        raise RuntimeError(f"order event {failed[0]} failed; the runtime will retry it")


_saga = orchestrator_function(ORDER_SAGA, activity_function=ACTIVITY_FUNCTION)


@app.orchestration_trigger(context_name="context")
def order_saga(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Any]:
    # The one definition, interpreted: the same steps, retries and compensations.
    return (yield from _saga(context))


@app.activity_trigger(input_name="envelope")
def run_activity(envelope: Any) -> Any:
    if isinstance(envelope, str):
        envelope = json.loads(envelope)
    return run_saga_activity(envelope)
