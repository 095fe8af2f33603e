"""The app's HTTP API as plain data: every cloud's entry point translates to and from it.

``handle(app, request)`` routes a ``Request`` and always returns a ``Response``:
bad input is 400, a missing thing 404, a conflict 409, an unreachable backend
503, anything else 500 with a generic message. A stack trace never reaches the
caller; it goes to the log with the correlation id.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from handlers.logs import CORRELATION_HEADER, correlation, get_logger, log
from statekit.errors import BackendUnavailable, Conflict, StatekitError

if TYPE_CHECKING:
    from handlers.app import App


_EMPTY: Mapping[str, str] = MappingProxyType({})


class BadRequest(ValueError):
    """The request is malformed; the message says what and where."""


class NotFound(LookupError):
    """The thing asked for does not exist."""


class Request(NamedTuple):
    """What every entry point translates its platform's request into (read-only)."""

    method: str
    path: str
    headers: Mapping[str, str] = _EMPTY
    body: bytes | str | None = None
    query: Mapping[str, str] = _EMPTY

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> dict[str, Any]:
        if self.body in (None, b"", ""):
            raise BadRequest("request body: expected a JSON object, got nothing")
        try:
            parsed = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"request body: not valid JSON ({exc})") from None
        if not isinstance(parsed, dict):
            raise BadRequest(f"request body: expected a JSON object, got {type(parsed).__name__}")
        return parsed


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return json.dumps(self.body)


Route = tuple[str, re.Pattern[str], Callable[..., Response]]


def _routes(app: App) -> list[Route]:
    def route(method: str, pattern: str, fn: Callable[..., Response]) -> Route:
        regex = re.compile("^" + re.sub(r"{(\w+)}", r"(?P<\1>[A-Za-z0-9_.-]{1,64})", pattern) + "$")
        return method, regex, fn

    return [
        route("GET", "/products/{sku}", lambda r, sku: Response(200, app.get_product(sku))),
        route("GET", "/carts/{cart_id}", lambda r, cart_id: Response(200, app.get_cart(cart_id))),
        route(
            "POST",
            "/carts/{cart_id}/items",
            lambda r, cart_id: Response(200, app.add_item(cart_id, r.json())),
        ),
        route(
            "DELETE",
            "/carts/{cart_id}/items/{sku}",
            lambda r, cart_id, sku: Response(200, app.remove_item(cart_id, sku)),
        ),
        route(
            "POST",
            "/orders",
            lambda r: Response(201, app.place_order(r.json(), r.header("idempotency-key"))),
        ),
        route(
            "GET",
            "/orders/{order_id}",
            lambda r, order_id: Response(200, app.order_status(order_id)),
        ),
        route(
            "POST",
            "/orders/{order_id}/approval",
            lambda r, order_id: Response(202, app.approve_order(order_id, r.json())),
        ),
        route("GET", "/health", lambda r: Response(200, {"ok": True})),
    ]


def handle(app: App, request: Request) -> Response:
    with correlation(request.header(CORRELATION_HEADER)) as correlation_id:
        response = _dispatch(app, request)
        response.headers.setdefault("content-type", "application/json")
        response.headers[CORRELATION_HEADER] = correlation_id
        log("http", method=request.method, path=request.path, status=response.status)
        return response


def _dispatch(app: App, request: Request) -> Response:
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
