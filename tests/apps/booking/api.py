"""The booking API: ``(Request) -> Response`` for every path of the ``api`` function.

POST /events/<event>/holds {"seat", "customer"}      hold a seat for 10 minutes
POST /payments {"event", "seat", "hold_id", "email", "amount"} + Idempotency-Key
                                                     pay once; books the seat, queues the e-mail
GET  /bookings/<id>                                  the booking and whether it was e-mailed
POST /groups {"event", "seats", "organizer"}         book seats for a group (a workflow)
GET  /groups/<id>                                    the group booking's run
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from booking import seats
from booking.payments import pay
from booking.state import state
from booking.workflow import GROUP_BOOKING
from statekit.app import BadRequest, Request, Response
from statekit.errors import StatekitError
from statekit.idempotency import IdempotencyKeyMismatch

Route = tuple[str, re.Pattern[str], Callable[..., Response]]


def _body(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise BadRequest("request body: expected a JSON object")
    return body


def create_hold(request: Request, event: str) -> Response:
    body = _body(request)
    held = seats.hold(
        event, seats.check(body.get("seat"), "seat"), seats.check(body.get("customer"), "customer")
    )
    return Response(201, held)


def create_payment(request: Request) -> Response:
    key = request.header("idempotency-key")
    if not key:
        raise BadRequest("header Idempotency-Key: required to pay")
    return Response(201, pay(key, _body(request)))


def get_booking(request: Request, booking_id: str) -> Response:
    store = state().store
    item = store.get(f"booking-{seats.check(booking_id, 'booking id')}/booking")
    if item is None:
        return Response(404, {"error": "not_found", "message": f"no booking {booking_id}"})
    emailed = store.get(f"mail-{booking_id}/sent") is not None
    return Response(200, {**item.value, "emailed": emailed})


def create_group(request: Request) -> Response:
    body = _body(request)
    group_id = f"g{uuid.uuid4().hex[:12]}"
    event = seats.check(body.get("event"), "event")
    wanted = body.get("seats")
    if not isinstance(wanted, list) or not wanted:
        raise BadRequest("seats: expected a non-empty list of seat names")
    for seat in wanted:
        seats.check(seat, "seats[]")
    run_input = {
        "group_id": group_id,
        "event": event,
        "seats": wanted,
        "organizer": seats.check(body.get("organizer"), "organizer"),
        "correlation_id": request.correlation_id,
    }
    state().workflows.start(GROUP_BOOKING, run_input, id=group_id)
    return Response(201, {"group_id": group_id})


def get_group(request: Request, group_id: str) -> Response:
    run = state().workflows.status(seats.check(group_id, "group id"))
    return Response(
        200, {"status": run.status, "output": run.output, "compensated": list(run.compensated)}
    )


def _route(method: str, pattern: str, fn: Callable[..., Response]) -> Route:
    regex = re.compile("^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", pattern) + "$")
    return method, regex, fn


ROUTES = [
    _route("POST", "/events/{event}/holds", create_hold),
    _route("POST", "/payments", create_payment),
    _route("GET", "/bookings/{booking_id}", get_booking),
    _route("POST", "/groups", create_group),
    _route("GET", "/groups/{group_id}", get_group),
]


def handle(request: Request) -> Response:
    for method, regex, fn in ROUTES:
        match = regex.match(request.path)
        if match and method == request.method:
            try:
                return fn(request, **match.groupdict())
            except seats.Taken as exc:
                return Response(409, {"error": "taken", "message": str(exc)})
            except IdempotencyKeyMismatch as exc:
                return Response(422, {"error": "idempotency_key_reused", "message": str(exc)})
            except (seats.Invalid, BadRequest) as exc:
                return Response(400, {"error": "bad_request", "message": str(exc)})
            except StatekitError as exc:
                if isinstance(exc, ValueError):
                    return Response(400, {"error": "bad_request", "message": str(exc)})
                raise
    return Response(
        404, {"error": "not_found", "message": f"no route {request.method} {request.path}"}
    )
