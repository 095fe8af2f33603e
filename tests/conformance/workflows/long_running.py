"""The long-running workflows every engine must run alike, and what each case must end with.

A group booking: hold the seats, a cool-off wait, then a manager's approval
(``WaitForEvent`` with a timeout); approved, it is confirmed and the guests are
notified in parallel; rejected or unanswered, it ends at a ``Fail`` step and
the hold is released (compensated). Beside it: a lone cool-off wait, a parallel
notification, and a per-seat ``Map`` with one failing seat, once not tolerated
(the hold is released) and once tolerated (the failed seat is marked).

Activities are deterministic and return the same answer to every branch of a
Parallel, so a stand-in that replays canned answers in call order (moto's
Lambda) gives each call its answer whichever branch runs first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from statekit.workflows import (
    Compensation,
    Fail,
    Map,
    Parallel,
    Step,
    Wait,
    WaitForEvent,
    When,
    Workflow,
)


class SeatFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(f"SeatTaken: {message}")
        self.error = "SeatTaken"
        self.message = message


def hold(payload: Any) -> dict[str, Any]:
    return {"hold_id": f"hold-{payload['booking_id']}"}


def release_hold(payload: Any) -> dict[str, Any]:
    return {"released": payload["hold_id"]}


def confirm(payload: Any) -> dict[str, Any]:
    return {"confirmed": payload["booking_id"]}


def notify(_payload: Any) -> dict[str, Any]:
    return {"sent": True}


def book_seat(payload: Any) -> dict[str, Any]:
    if payload["seat"] == "bad":
        raise SeatFailed(f"seat {payload['seat']} is taken")
    return {"booked": payload["seat"]}


ACTIVITIES = {
    "hold": hold,
    "release_hold": release_hold,
    "confirm": confirm,
    "notify": notify,
    "book_seat": book_seat,
}

HOLD = Step(
    "hold",
    activity="hold",
    input={"booking_id": "$.booking_id"},
    output="hold",
    compensate=Compensation("release_hold", input={"hold_id": "$.hold.hold_id"}),
    next="cool_off",
)

GROUP_BOOKING = Workflow(
    "group_booking",
    [
        HOLD,
        Wait("cool_off", seconds=1, next="approval"),
        WaitForEvent(
            "approval",
            event="approval",
            timeout=3,
            output="decision",
            choices=[When("$.decision.approved", equals=True, next="confirm")],
            next="rejected",
            on_timeout="rejected",
        ),
        Step(
            "confirm",
            activity="confirm",
            input={"booking_id": "$.booking_id"},
            output="confirmation",
            next="notify_guests",
        ),
        Parallel(
            "notify_guests",
            branches=[
                [Step("email", activity="notify", input={"channel": "email"}, output="email")],
                [Step("sms", activity="notify", input={"channel": "sms"}, output="sms")],
            ],
            output="notified",
        ),
        Fail("rejected", error="Rejected", message="the manager said no or did not answer"),
    ],
    activities=ACTIVITIES,
)

COOL_OFF = Workflow(
    "cool_off_only",
    [
        Wait("pause", seconds=1, next="confirm_after"),
        Step(
            "confirm_after",
            activity="confirm",
            input={"booking_id": "$.booking_id"},
            output="confirmation",
        ),
    ],
    activities=ACTIVITIES,
)

NOTIFY = Workflow(
    "notify_all",
    [
        Parallel(
            "fan_out",
            branches=[
                [Step("by_email", activity="notify", input={"channel": "email"}, output="email")],
                [
                    Step(
                        "by_sms",
                        activity="notify",
                        input={"channel": "sms"},
                        output="sms",
                        next="by_push",
                    ),
                    Step("by_push", activity="notify", input={"channel": "push"}, output="push"),
                ],
            ],
            output="notified",
        )
    ],
    activities=ACTIVITIES,
)


# What the start-conflict case runs: it lingers, so it is cancelled before any activity
# runs (no canned answer is left behind on a shared stand-in).
LINGER = Workflow(
    "linger",
    [
        Wait("linger_a_while", seconds=120, next="confirm_late"),
        Step("confirm_late", activity="confirm", input={"booking_id": "$.booking_id"}),
    ],
    activities=ACTIVITIES,
)


def seats_workflow(name: str, tolerated: int) -> Workflow:
    return Workflow(
        name,
        [
            Step(
                "hold_seats",
                activity="hold",
                input={"booking_id": "$.booking_id"},
                output="hold",
                compensate=Compensation("release_hold", input={"hold_id": "$.hold.hold_id"}),
                next="per_seat",
            ),
            Map(
                "per_seat",
                items="$.seats",
                steps=[
                    Step("book", activity="book_seat", input={"seat": "$.item"}, output="booking")
                ],
                max_concurrency=1,  # one at a time: canned answers (moto) stay in order
                tolerated_failures=tolerated,
                output="seat_results",
            ),
        ],
        activities=ACTIVITIES,
    )


SEATS = seats_workflow("book_seats", 0)
SEATS_TOLERANT = seats_workflow("book_seats_tolerant", 1)
WORKFLOWS = (GROUP_BOOKING, COOL_OFF, NOTIFY, SEATS, SEATS_TOLERANT, LINGER)


@dataclass
class Case:
    name: str
    workflow: Workflow
    input: dict[str, Any]
    status: str
    output: Any = None
    failed_step: str | None = None
    error: str | None = None
    compensations: tuple[str, ...] = ()
    events: list[tuple[str, Any]] = field(default_factory=list)  # sent once the run waits
    cancel: bool = False  # cancelled once it waits for its event
    uses_events: bool = False


def cases(tag: str) -> dict[str, Case]:
    def booking(suffix: str) -> dict[str, Any]:
        return {"booking_id": f"{tag}-{suffix}"}

    approved_in = booking("approved")
    held = {"hold_id": f"hold-{approved_in['booking_id']}"}
    approved_state = {**approved_in, "hold": held, "decision": {"approved": True}}
    after_confirm = {**approved_state, "confirmation": {"confirmed": approved_in["booking_id"]}}
    seats_in = {**booking("seats"), "seats": ["a1", "bad", "a3"]}
    tolerant_in = {**booking("tolerant"), "seats": ["a1", "bad", "a3"]}
    found = [
        Case(
            "approval_approved",
            GROUP_BOOKING,
            approved_in,
            "succeeded",
            output={
                **after_confirm,
                "notified": [
                    {**after_confirm, "email": {"sent": True}},
                    {**after_confirm, "sms": {"sent": True}},
                ],
            },
            events=[("approval", {"approved": True})],
            uses_events=True,
        ),
        Case(
            "approval_rejected",
            GROUP_BOOKING,
            booking("rejected"),
            "compensated",
            failed_step="rejected",
            error="Rejected",
            compensations=("release_hold",),
            events=[("approval", {"approved": False})],
            uses_events=True,
        ),
        Case(
            "approval_timed_out",
            GROUP_BOOKING,
            booking("timeout"),
            "compensated",
            failed_step="rejected",
            error="Rejected",
            compensations=("release_hold",),
            uses_events=True,
        ),
        Case(
            "cool_off",
            COOL_OFF,
            booking("cool"),
            "succeeded",
            output={**booking("cool"), "confirmation": {"confirmed": f"{tag}-cool"}},
        ),
        Case(
            "parallel_notification",
            NOTIFY,
            booking("notify"),
            "succeeded",
            output={
                **booking("notify"),
                "notified": [
                    {**booking("notify"), "email": {"sent": True}},
                    {**booking("notify"), "sms": {"sent": True}, "push": {"sent": True}},
                ],
            },
        ),
        Case(
            "map_one_item_fails",
            SEATS,
            seats_in,
            "compensated",
            failed_step="per_seat",
            error="BranchFailed",
            compensations=("release_hold",),
        ),
        Case(
            "map_failure_tolerated",
            SEATS_TOLERANT,
            tolerant_in,
            "succeeded",
            output={
                **tolerant_in,
                "hold": {"hold_id": f"hold-{tag}-tolerant"},
                "seat_results": [
                    {"item": "a1", "booking": {"booked": "a1"}},
                    {"item": "bad", "statekit_failed": True},
                    {"item": "a3", "booking": {"booked": "a3"}},
                ],
            },
        ),
        Case(
            "cancelled_while_waiting",
            GROUP_BOOKING,
            booking("cancel"),
            "cancelled",
            cancel=True,
            uses_events=True,
        ),
    ]
    return {case.name: case for case in found}


@dataclass
class Outcome:
    status: str
    output: Any = None
    failed_step: str | None = None
    error: str | None = None
    compensations: tuple[str, ...] = ()
    seconds: float = 0.0


def run_activity(envelope: Any) -> Any:
    """The activity dispatcher of these tests (every engine's activity side)."""
    return ACTIVITIES[envelope["activity"]](envelope["input"])
