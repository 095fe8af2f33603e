"""The group booking: hold every seat, charge the organizer, confirm; undo on failure.

A simple saga (statekit.workflows has no human-approval wait yet): a seat
already taken fails the hold step, and the seats held so far are released.
"""

from __future__ import annotations

from typing import Any

from booking import seats
from statekit.app import activity
from statekit.workflows import Compensation, Retry, Step, Workflow

GROUP_BOOKING = Workflow(
    "group_booking",
    activities=["hold_group_seats", "release_group_seats", "charge_organizer", "confirm_group"],
    steps=[
        Step(
            "hold_seats",
            activity="hold_group_seats",
            input={"group_id": "$.group_id", "event": "$.event", "seats": "$.seats"},
            output="holds",
            next="charge",
            compensate=Compensation("release_group_seats", input={"holds": "$.holds"}),
        ),
        Step(
            "charge",
            activity="charge_organizer",
            input={"group_id": "$.group_id", "organizer": "$.organizer", "holds": "$.holds"},
            output="payment",
            retry=Retry(max_attempts=2, interval=1),
            next="confirm",
        ),
        Step(
            "confirm",
            activity="confirm_group",
            input={"group_id": "$.group_id", "holds": "$.holds"},
            output="confirmed",
        ),
    ],
)


@activity("hold_group_seats")
def hold_group_seats(payload: Any) -> dict[str, Any]:
    held: list[dict[str, Any]] = []
    try:
        for seat in payload["seats"]:
            got = seats.hold(payload["event"], seat, payload["group_id"])
            held.append({"event": got["event"], "seat": seat, "hold_id": got["hold_id"]})
    except seats.Taken:
        for done in held:  # all or nothing within the step
            seats.release(done["event"], done["seat"], done["hold_id"])
        raise
    return {"seats": held}


@activity("release_group_seats")
def release_group_seats(payload: Any) -> dict[str, Any]:
    released = [
        h["seat"]
        for h in payload["holds"]["seats"]
        if seats.release(h["event"], h["seat"], h["hold_id"])
    ]
    return {"released": released}


@activity("charge_organizer")
def charge_organizer(payload: Any) -> dict[str, Any]:
    if payload["organizer"] == "declined":
        raise RuntimeError("ChargeDeclined: the organizer's card was declined")
    return {"payment_id": f"pay-{payload['group_id']}", "seats": len(payload["holds"]["seats"])}


@activity("confirm_group")
def confirm_group(payload: Any) -> dict[str, Any]:
    for h in payload["holds"]["seats"]:
        seats.book(h["event"], h["seat"], h["hold_id"], payload["group_id"])
    return {"booked": [h["seat"] for h in payload["holds"]["seats"]]}
