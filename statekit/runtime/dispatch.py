"""What every cloud's adapter shares: find the App and the function, make the portable call.

The adapters translate their platform's event into one of four calls here:

- ``call_http(function, request)``: the handler's ``Response``; ``BadRequest`` is
  400, any other error a 500 with a generic message (the trace goes to the log);
  the correlation id comes from ``X-Correlation-Id`` or is made, and goes back
  in the response's headers;
- ``consume(function, messages)``: the ids of the messages whose handler raised
  (the platform retries those, then dead-letters them);
- ``fire(function)``: a schedule's run;
- ``run_activity(envelope)``: ``{"activity": name, "input": ...}`` -> the result.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from statekit.app import App, AppError, BadRequest, Request, Response
from statekit.app.correlation import CORRELATION_HEADER, correlation, usable_correlation_id
from statekit.app.declaration import ACTIVITY_FUNCTION, APP_VARIABLE, FUNCTION_VARIABLE, resolve_app
from statekit.app.declaration import load_app as _load_app
from statekit.app.functions import Function
from statekit.queue import Message
from statekit.runtime.logs import log, log_error


class RuntimeConfigError(AppError):
    """The deployed function's environment does not name a function of its App."""


def load_app(spec: str | None = None) -> App:
    """The App of this process (``$STATEKIT_APP``), loaded once per cold start."""
    return _loaded(spec or resolve_app())


@functools.cache
def _loaded(spec: str) -> App:
    return _load_app(spec)


def function_name(environ: Mapping[str, str] | None = None) -> str:
    name = (environ if environ is not None else os.environ).get(FUNCTION_VARIABLE, "")
    if not name:
        raise RuntimeConfigError(
            f"{FUNCTION_VARIABLE} is not set: a deployed function names the App's function "
            f"it runs (or {ACTIVITY_FUNCTION!r}); {APP_VARIABLE} names the App"
        )
    return name


def current_function(app: App | None = None) -> Function | None:
    """The declared function this process serves; None for the activity function."""
    app = app or load_app()
    name = function_name()
    if name == ACTIVITY_FUNCTION:
        if not app.workflows:
            raise RuntimeConfigError(
                f"{FUNCTION_VARIABLE}={name!r}: app {app.name!r} declares no workflows"
            )
        return None
    return app.function(name)


# -- HTTP ----------------------------------------------------------------------------------
def call_http(
    app: App, function: Function, request: Request
) -> tuple[Response, bytes, dict[str, str]]:
    """Run an HTTP handler; returns the response, its body's bytes and the headers to send."""
    with correlation(request.header(CORRELATION_HEADER)) as correlation_id:
        request = _with_correlation(request, correlation_id)
        try:
            response = app.handler(function.name)(request)
            if not isinstance(response, Response):
                raise TypeError(
                    f"HTTP handler {function.handler!r} returned {type(response).__name__}, "
                    "not a statekit.app.Response"
                )
        except BadRequest as exc:
            response = Response(400, {"error": "bad_request", "message": str(exc)})
        except Exception as exc:  # every error becomes a status, never a trace
            log_error("http.unhandled", exc, function=function.name, path=request.path)
            response = Response(500, {"error": "internal", "message": "internal error; see logs"})
        data, headers = response.encode()
        headers[CORRELATION_HEADER] = correlation_id
        log(
            "http",
            function=function.name,
            method=request.method,
            path=request.path,
            status=response.status,
        )
        return response, data, headers


def _with_correlation(request: Request, correlation_id: str) -> Request:
    return Request(
        method=request.method,
        path=request.path,
        query=request.query,
        headers=request.headers,
        body=request.body,
        correlation_id=correlation_id,
    )


# -- queue ---------------------------------------------------------------------------------
def message_correlation(message: Message) -> str | None:
    body = message.body
    return usable_correlation_id(body.get("correlation_id")) if isinstance(body, dict) else None


def consume_one(app: App, function: Function, message: Message) -> None:
    """Run the consumer on one message under its correlation id; re-raises its error."""
    with correlation(message_correlation(message)):
        try:
            app.handler(function.name)(message)
        except Exception as exc:
            log_error(
                "queue.message_failed",
                exc,
                function=function.name,
                message_id=message.id,
                attempt=message.attempts,
            )
            raise


def consume(app: App, function: Function, messages: Iterable[Message]) -> list[str]:
    """The ids of the messages that failed; the platform redelivers exactly those."""
    failed: list[str] = []
    for message in messages:
        try:
            consume_one(app, function, message)
        except Exception:
            failed.append(message.id)
    return failed


# -- schedules -----------------------------------------------------------------------------
def fire(app: App, function: Function, correlation_id: str | None = None) -> None:
    """Run a schedule's job once; its error is logged and raised (the platform records a failure)."""
    with correlation(correlation_id):
        log("schedule.fired", function=function.name)
        try:
            app.handler(function.name)()
        except Exception as exc:
            log_error("schedule.failed", exc, function=function.name)
            raise
        log("schedule.done", function=function.name)


# -- activities ----------------------------------------------------------------------------
def run_activity(app: App, envelope: Any) -> Any:
    """``{"activity": name, "input": ...}`` -> the activity's result; its error is raised
    as is, so each engine's retry and catch see the activity's own error name."""
    payload = envelope.get("input") if isinstance(envelope, Mapping) else None
    correlation_id = payload.get("correlation_id") if isinstance(payload, Mapping) else None
    name = envelope.get("activity") if isinstance(envelope, Mapping) else None
    with correlation(correlation_id):
        try:
            result = app.run_activity(envelope)
        except Exception as exc:
            log("activity", activity=name, outcome="failed", error=error_name(exc))
            raise
        log("activity", activity=name, outcome="succeeded")
        return result


def error_name(exc: BaseException) -> str:
    """A stable name for an activity's failure: its ``error`` attribute, else its class."""
    name = getattr(exc, "error", None)
    return name if isinstance(name, str) and name else type(exc).__name__


def error_message(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) else str(exc)


@contextmanager
def cold_start_errors(platform: str) -> Iterator[None]:
    """A wrong ``STATEKIT_APP`` or ``STATEKIT_FUNCTION`` is logged once, clearly, then raised."""
    try:
        yield
    except AppError as exc:
        log_error("runtime.config", exc, platform=platform)
        raise
