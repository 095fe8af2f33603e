"""Azure Functions (Python v2 model): ``function_app()`` registers an App's functions.

The package root's ``function_app.py`` is exactly::

    from statekit.runtime.azure import function_app
    app = function_app()

It registers, for the App named by ``STATEKIT_APP``:

- each ``Http`` function: an HTTP trigger on route ``<name>/{*path}`` (the
  handler sees ``/{path}``), anonymous when ``public``, else function keys
  (``AuthLevel.FUNCTION``; Entra in front is the IaC side's);
- each ``QueueConsumer``: a queue trigger on ``%STATEKIT_QUEUE_NAME%`` over the
  connection setting ``STATEKIT_QUEUE_CONNECTION``; raising makes the host retry
  the message and, after ``maxDequeueCount``, move it to ``<queue>-poison``;
- each ``Schedule``: a timer trigger on its 6-field NCRONTAB (UTC);
- per workflow, a Durable orchestrator named after the workflow, and one
  activity function named ``activities`` that runs every activity.

One Function App usually hosts them all (``STATEKIT_FUNCTION`` unset or ``*``).
A Function App whose ``STATEKIT_FUNCTION`` names one declared function (or
``activities``) registers only that one, so no trigger runs twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Sequence
from typing import Any

import azure.durable_functions as df
import azure.functions as func

from statekit.app import App, Request
from statekit.app.declaration import ACTIVITY_FUNCTION, FUNCTION_VARIABLE
from statekit.app.functions import Function, Http, QueueConsumer, Schedule
from statekit.queue import Message
from statekit.queue.messages import decode_body
from statekit.runtime.dispatch import call_http, consume_one, fire, load_app, run_activity
from statekit.workflows import Workflow
from statekit.workflows.engines.durable.orchestrator import (
    BODY_ORCHESTRATOR,
    body_orchestrator_function,
    orchestrator_function,
)

QUEUE_NAME_SETTING = "%STATEKIT_QUEUE_NAME%"
QUEUE_CONNECTION_SETTING = "STATEKIT_QUEUE_CONNECTION"
HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
ALL = "*"


def http_route(function: Http) -> str:
    return f"{function.name}/{{*path}}"


def function_app(spec: str | None = None) -> df.DFApp:
    """The Functions app of the App ``spec`` (default: ``$STATEKIT_APP``)."""
    app = load_app(spec)
    only = os.environ.get(FUNCTION_VARIABLE) or ALL
    functions = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
    for function in app.functions:
        if only in (ALL, function.name):
            _register(functions, app, function)
    if app.workflows and only in (ALL, ACTIVITY_FUNCTION):
        for workflow in app.workflows:
            _register_orchestrator(functions, workflow)
        _register_body_orchestrator(functions, app.workflows)
        _register_activities(functions, app)
    return functions


def _register(functions: df.DFApp, app: App, function: Function) -> None:
    if isinstance(function, Http):
        _register_http(functions, app, function)
    elif isinstance(function, QueueConsumer):
        _register_queue(functions, app, function)
    elif isinstance(function, Schedule):
        _register_timer(functions, app, function)


def _register_http(functions: df.DFApp, app: App, function: Http) -> None:
    level = func.AuthLevel.ANONYMOUS if function.public else func.AuthLevel.FUNCTION

    @functions.function_name(function.name)
    @functions.route(route=http_route(function), methods=HTTP_METHODS, auth_level=level)
    def http_trigger(req: func.HttpRequest) -> func.HttpResponse:
        request = Request(
            method=req.method,
            path="/" + (req.route_params.get("path") or "").lstrip("/"),
            query=dict(req.params),
            headers=dict(req.headers),
            body=req.get_body(),
        )
        response, data, headers = call_http(app, function, request)
        return func.HttpResponse(data, status_code=response.status, headers=headers)


def _register_queue(functions: df.DFApp, app: App, function: QueueConsumer) -> None:
    @functions.function_name(function.name)
    @functions.queue_trigger(
        arg_name="msg", queue_name=QUEUE_NAME_SETTING, connection=QUEUE_CONNECTION_SETTING
    )
    def queue_trigger(msg: func.QueueMessage) -> None:
        """One message per call; raising makes the host retry it, then poison it."""
        message = Message(
            id=msg.id or "",
            body=decode_body(msg.get_body().decode("utf-8", errors="replace")),
            attempts=msg.dequeue_count or 1,
            receipt=None,
        )
        consume_one(app, function, message)


def _register_timer(functions: df.DFApp, app: App, function: Schedule) -> None:
    @functions.function_name(function.name)
    @functions.schedule(
        schedule=function.ncrontab, arg_name="timer", run_on_startup=False, use_monitor=True
    )
    def timer_trigger(timer: func.TimerRequest) -> None:
        fire(app, function)


def _register_orchestrator(functions: df.DFApp, workflow: Workflow) -> None:
    run = orchestrator_function(workflow, activity_function=ACTIVITY_FUNCTION)

    @functions.function_name(workflow.name)
    @functions.orchestration_trigger(context_name="context")
    def orchestrator(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Any]:
        # The one definition, interpreted: the same steps, retries and compensations.
        return (yield from run(context))


def _register_body_orchestrator(functions: df.DFApp, workflows: Sequence[Workflow]) -> None:
    # Each Parallel branch and Map item is a sub-orchestration of this one function.
    run = body_orchestrator_function(activity_function=ACTIVITY_FUNCTION, workflows=workflows)

    @functions.function_name(BODY_ORCHESTRATOR)
    @functions.orchestration_trigger(context_name="context")
    def body(context: df.DurableOrchestrationContext) -> Generator[Any, Any, Any]:
        return (yield from run(context))


def _register_activities(functions: df.DFApp, app: App) -> None:
    @functions.function_name(ACTIVITY_FUNCTION)
    @functions.activity_trigger(input_name="envelope")
    def activities(envelope: Any) -> Any:
        if isinstance(envelope, str):
            envelope = json.loads(envelope)
        return run_activity(app, envelope)
