"""Paying for a hold, once per Idempotency-Key: a retried or doubled submit replays the answer."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from booking import seats
from booking.state import state
from statekit.app import BadRequest, current_correlation_id


def pay(key: str, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = _pay_once()(key, body)
    return result


@functools.cache
def _pay_once() -> Any:
    from statekit.idempotency import idempotent

    @idempotent(store=state().store, key=lambda key, body: key, ttl=24 * 3600, on_duplicate="wait")
    def once(key: str, body: dict[str, Any]) -> dict[str, Any]:
        return _pay(body)

    return once


def _pay(body: dict[str, Any]) -> dict[str, Any]:
    event = seats.check(body.get("event"), "event")
    seat = seats.check(body.get("seat"), "seat")
    hold_id = seats.check(body.get("hold_id"), "hold_id")
    email = body.get("email")
    amount = body.get("amount")
    if not isinstance(email, str) or "@" not in email:
        raise BadRequest(f"email: expected an e-mail address, got {email!r}")
    if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
        raise BadRequest(f"amount: expected a positive number, got {amount!r}")
    booking_id = f"b{uuid.uuid4().hex[:12]}"
    seats.book(event, seat, hold_id, booking_id)
    booking = {
        "booking_id": booking_id,
        "event": event,
        "seat": seat,
        "email": email,
        "amount": amount,
        "payment_id": f"pay-{booking_id}",
    }
    store = state().store
    store.put(f"booking-{booking_id}/booking", booking, if_absent=True)
    state().queue.send(
        {
            "type": "booking_confirmed",
            "booking_id": booking_id,
            "to": email,
            "correlation_id": current_correlation_id(),
        }
    )
    return booking
