"""Orders above an amount wait for a manager's approval, then the saga goes on or is undone.

``APPROVED_ORDER_SAGA`` is the order saga with a ``WaitForEvent`` after the
stock is reserved: a manager approves or rejects through
``POST /orders/<id>/approval`` (``{"approved": true|false, "by": "..."}``), which
``send_event``s ``approval`` to the run. Approved, the payment is charged and
the shipment created; rejected, or unanswered for a day, the run ends at
``not_approved`` and the reservation is released (compensated).
"""

from __future__ import annotations

from typing import Any

from handlers.activities import ACTIVITIES
from handlers.saga import ORDER_SAGA
from statekit.workflows import Fail, Step, WaitForEvent, When, Workflow

APPROVAL_AMOUNT = 500.0  # orders above this wait for a manager
APPROVAL_TIMEOUT = 24 * 3600
APPROVAL_EVENT = "approval"


def _saga_step(name: str, **changes: Any) -> Step:
    step = ORDER_SAGA.step(name)
    assert isinstance(step, Step)
    from dataclasses import replace

    return replace(step, **changes)


APPROVED_ORDER_SAGA = Workflow(
    "place_large_order",
    activities=ACTIVITIES,
    steps=[
        _saga_step("reserve_stock", next="manager_approval"),
        WaitForEvent(
            "manager_approval",
            event=APPROVAL_EVENT,
            timeout=APPROVAL_TIMEOUT,
            output="approval",
            choices=[When("$.approval.approved", equals=True, next="charge_payment")],
            next="not_approved",
            on_timeout="not_approved",
        ),
        _saga_step("charge_payment"),
        _saga_step("create_shipment"),
        Fail("payment_declined", error="PaymentDeclined", message="the card was declined"),
        Fail(
            "not_approved", error="NotApproved", message="a manager rejected it or did not answer"
        ),
    ],
)


def workflow_for(amount: float) -> Workflow:
    """The saga an order of ``amount`` runs."""
    return APPROVED_ORDER_SAGA if amount > APPROVAL_AMOUNT else ORDER_SAGA


def approval_event(body: dict[str, Any]) -> dict[str, Any]:
    """The event a manager's ``POST /orders/<id>/approval`` sends; checked here."""
    from handlers.http import BadRequest

    approved = body.get("approved")
    if not isinstance(approved, bool):
        raise BadRequest(f"body.approved: expected true or false, got {approved!r}")
    by = body.get("by", "manager")
    if not isinstance(by, str) or not 1 <= len(by) <= 64:
        raise BadRequest(f"body.by: expected a name of 1 to 64 characters, got {by!r}")
    return {"approved": approved, "by": by}
