"""The order saga, defined once and run by every engine.

Place an order: reserve stock, charge the payment, create the shipment. A
declined card ends the run through the ``payment_declined`` choice; a failure
of any step (after its retries) undoes what was done, in reverse order:
refund the payment, then release the stock.
"""

from __future__ import annotations

from handlers.activities import ACTIVITIES
from statekit.workflows import Compensation, Fail, Retry, Step, When, Workflow

ORDER_SAGA = Workflow(
    "place_order",
    activities=ACTIVITIES,
    steps=[
        Step(
            "reserve_stock",
            activity="reserve_stock",
            input={"order_id": "$.order_id", "items": "$.items"},
            output="reservation",
            retry=Retry(max_attempts=3, interval=1, backoff_rate=2.0),
            timeout=30,
            next="charge_payment",
            compensate=Compensation(
                "release_stock", input={"reservation_id": "$.reservation.reservation_id"}
            ),
        ),
        Step(
            "charge_payment",
            activity="charge_payment",
            input={
                "order_id": "$.order_id",
                "amount": "$.amount",
                "card": "$.card",
            },
            output="payment",
            retry=Retry(max_attempts=3, interval=1, backoff_rate=2.0),
            timeout=30,
            choices=[When("$.payment.status", equals="declined", next="payment_declined")],
            next="create_shipment",
            compensate=Compensation(
                "refund_payment",
                input={
                    "payment_id": "$.payment.payment_id",
                    "amount": "$.payment.amount",
                    "status": "$.payment.status",
                },
            ),
        ),
        Step(
            "create_shipment",
            activity="create_shipment",
            # The whole state: address, items, payment, and the optional fail_at flag
            # (a path to a missing field would fail the run on every engine).
            input=None,
            output="shipment",
            retry=Retry(max_attempts=2, interval=1),
            timeout=30,
        ),
        Fail("payment_declined", error="PaymentDeclined", message="the card was declined"),
    ],
)


def order(
    order_id: str, *, fail_at: str | None = None, card: str = "tok_visa"
) -> dict[str, object]:
    """A sample order input; ``fail_at="create_shipment"`` makes the third step fail."""
    sample: dict[str, object] = {
        "order_id": order_id,
        "items": [{"sku": "book-1", "quantity": 2}],
        "amount": 42,
        "card": card,
        "address": {"city": "Lisbon"},
    }
    if fail_at:
        sample["fail_at"] = fail_at
    return sample
