"""Seat holds and bookings: a hold keeps a seat for ``HOLD_SECONDS``; paying books it."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from booking.state import state
from statekit.errors import Conflict

HOLD_SECONDS = 600
_ID = re.compile(r"^[A-Za-z0-9-]{1,40}$")


class Invalid(ValueError):
    """Bad input; the message names the field."""


class Taken(Exception):
    """The seat is held by someone else or booked."""


def check(value: object, field: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise Invalid(f"{field}: expected 1 to 40 of A-Z a-z 0-9 -, got {value!r}")
    return value


def seat_key(event: str, seat: str) -> str:
    return f"event-{check(event, 'event')}/seat-{check(seat, 'seat')}"


def is_live_hold(value: dict[str, Any], now: float) -> bool:
    return value.get("status") == "held" and value.get("expires_at", 0) > now


def hold(event: str, seat: str, customer: str, now: float | None = None) -> dict[str, Any]:
    """Hold a free seat (or one whose hold ran out); ``Taken`` otherwise."""
    now = time.time() if now is None else now
    key = seat_key(event, seat)
    record = {
        "status": "held",
        "hold_id": f"h{uuid.uuid4().hex[:12]}",
        "customer": check(customer, "customer"),
        "expires_at": now + HOLD_SECONDS,
    }
    store = state().store
    current = store.get(key)
    try:
        if current is None:
            store.put(key, record, if_absent=True)
        elif current.value.get("status") == "held" and not is_live_hold(current.value, now):
            store.put(key, record, if_match=current.etag)  # an expired hold: take it over
        else:
            raise Taken(f"seat {seat} of event {event} is {current.value.get('status')}")
    except Conflict:
        raise Taken(f"seat {seat} of event {event} was just taken") from None
    store.put(f"events/{event}", {"event": event})
    return {"event": event, "seat": seat, **record}


def book(event: str, seat: str, hold_id: str, booking_id: str) -> None:
    """Turn a live hold into a booking; ``Taken`` when the hold is gone or not this one."""
    store = state().store
    key = seat_key(event, seat)
    current = store.get(key)
    if current is None or current.value.get("hold_id") != hold_id:
        raise Taken(f"hold {hold_id} on seat {seat} of event {event} does not exist")
    if not is_live_hold(current.value, time.time()):
        raise Taken(f"hold {hold_id} has expired or is already booked")
    booked = {**current.value, "status": "booked", "booking_id": booking_id}
    try:
        store.put(key, booked, if_match=current.etag)
    except Conflict:
        raise Taken(f"seat {seat} of event {event} changed while booking") from None


def release(event: str, seat: str, hold_id: str) -> bool:
    """Free a seat held (or booked) under ``hold_id``; False when it is not."""
    store = state().store
    key = seat_key(event, seat)
    current = store.get(key)
    if current is None or current.value.get("hold_id") != hold_id:
        return False
    try:
        return bool(store.delete(key, if_match=current.etag))
    except Conflict:
        return False
