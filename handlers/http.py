"""The app's HTTP API: the portable handler of its ``api`` function.

statekit's runtime turns each cloud's HTTP event into a ``statekit.app.Request``;
``handle(request)`` routes it and always returns a ``Response``:
bad input is 400, a missing thing 404, a conflict 409, an unreachable backend
503, anything else 500 with a generic message. A stack trace never reaches the
caller; it goes to the log with the correlation id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from handlers.logs import get_logger
from statekit.app import BadRequest as StatekitBadRequest
from statekit.app import Request, Response
from statekit.errors import BackendUnavailable, Conflict, StatekitError

if TYPE_CHECKING:
    from handlers.app import Shop


class BadRequest(StatekitBadRequest):
    """The request is malformed; the message says what and where."""


class NotFound(LookupError):
    """The thing asked for does not exist."""


def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 400 for anything else."""
    parsed = request.json()
    if not isinstance(parsed, dict):
        raise BadRequest(f"request body: expected a JSON object, got {type(parsed).__name__}")
    return parsed


Route = tuple[str, re.Pattern[str], Callable[..., Response]]


def _routes(app: Shop) -> list[Route]:
    def route(method: str, pattern: str, fn: Callable[..., Response]) -> Route:
        regex = re.compile("^" + re.sub(r"{(\w+)}", r"(?P<\1>[A-Za-z0-9_.-]{1,64})", pattern) + "$")
        return method, regex, fn

    return [
        route("GET", "/products/{sku}", lambda r, sku: Response(200, app.get_product(sku))),
        route("GET", "/carts/{cart_id}", lambda r, cart_id: Response(200, app.get_cart(cart_id))),
        route(
            "POST",
            "/carts/{cart_id}/items",
            lambda r, cart_id: Response(200, app.add_item(cart_id, json_object(r))),
        ),
        route(
            "DELETE",
            "/carts/{cart_id}/items/{sku}",
            lambda r, cart_id, sku: Response(200, app.remove_item(cart_id, sku)),
        ),
        route(
            "POST",
            "/orders",
            lambda r: Response(201, app.place_order(json_object(r), r.header("idempotency-key"))),
        ),
        route(
            "GET",
            "/orders/{order_id}",
            lambda r, order_id: Response(200, app.order_status(order_id)),
        ),
        route("GET", "/health", lambda r: Response(200, {"ok": True})),
    ]


def handle(request: Request) -> Response:
    """The API function (``Http("api", "handlers.http:handle")``): every path of it."""
    from handlers.app import get_app

    # statekit's runtime logs each request with its status and correlation id.
    return _dispatch(get_app(), request)


def _dispatch(app: Shop, request: Request) -> Response:
    allowed: list[str] = []
    for method, regex, fn in _routes(app):
        match = regex.match(request.path)
        if match is None:
            continue
        if method != request.method.upper():
            allowed.append(method)
            continue
        try:
            return fn(request, **match.groupdict())
        except Exception as exc:  # every error becomes a status, never a trace
            return error_response(exc)
    if allowed:
        return Response(
            405, {"error": "method_not_allowed", "message": f"use {', '.join(allowed)}"}
        )
    return Response(404, {"error": "not_found", "message": f"no route for {request.path}"})


def error_response(exc: Exception) -> Response:
    from statekit.idempotency import AlreadyInProgress, IdempotencyKeyMismatch

    if isinstance(exc, NotFound):
        return Response(404, {"error": "not_found", "message": str(exc)})
    if isinstance(exc, Conflict | AlreadyInProgress):
        return Response(409, {"error": "conflict", "message": str(exc)})
    if isinstance(exc, BackendUnavailable):
        return Response(
            503, {"error": "unavailable", "message": "a backend is unavailable; retry later"}
        )
    if isinstance(exc, IdempotencyKeyMismatch):
        # The Idempotency-Key draft standard: a key reused with another payload is 422.
        return Response(422, {"error": "idempotency_key_reused", "message": str(exc)})
    # statekit's validation errors are ValueErrors: bad input, not a server fault.
    if isinstance(exc, BadRequest) or (
        isinstance(exc, StatekitError) and isinstance(exc, ValueError)
    ):
        return Response(400, {"error": "bad_request", "message": str(exc)})
    get_logger().error("unhandled error", exc_info=exc)
    return Response(500, {"error": "internal", "message": "internal error; see logs"})
