"""The order saga's activities: plain Python, no cloud SDK, shared by every engine.

Each activity takes the JSON input its workflow step maps for it and returns
JSON. They are idempotent by order id (an engine may run an activity again
after a crash or a retry) and deterministic, so tests on every engine can
predict each result. ``fail_at`` in the order (the name of an activity) makes
that activity fail every attempt: the way tests and demos drive a saga into its
compensations.

Deployed, the App's ``activities`` function (statekit.runtime) runs them for
every engine; ``run_activity(envelope)`` is the same dispatch over
``{"activity": name, "input": ...}`` for tests that drive an engine directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Activity = Callable[[Any], Any]


class ActivityFailed(Exception):
    """An activity gave up; ``error`` is a stable name for it (the message is for people)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error
        self.message = message


class UnknownActivity(ActivityFailed):
    def __init__(self, name: object) -> None:
        super().__init__(
            "UnknownActivity", f"no activity named {name!r} (known: {', '.join(ACTIVITIES)})"
        )


def _order_id(payload: Any) -> str:
    if not isinstance(payload, Mapping) or not isinstance(payload.get("order_id"), str):
        raise ActivityFailed("InvalidInput", f"an 'order_id' string is required, got {payload!r}")
    return str(payload["order_id"])


def _maybe_fail(name: str, payload: Any) -> None:
    if isinstance(payload, Mapping) and payload.get("fail_at") == name:
        raise ActivityFailed(
            f"{_camel(name)}Failed",
            f"{name} failed for order {payload.get('order_id')!r} (fail_at)",
        )


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def reserve_stock(payload: Any) -> dict[str, Any]:
    order_id = _order_id(payload)
    _maybe_fail("reserve_stock", payload)
    items = payload.get("items") or []
    return {"reservation_id": f"res-{order_id}", "items": len(items)}


def charge_payment(payload: Any) -> dict[str, Any]:
    order_id = _order_id(payload)
    _maybe_fail("charge_payment", payload)
    declined = payload.get("card") == "declined"
    return {
        "payment_id": f"pay-{order_id}",
        "amount": payload.get("amount"),
        "status": "declined" if declined else "approved",
    }


def create_shipment(payload: Any) -> dict[str, Any]:
    order_id = _order_id(payload)
    _maybe_fail("create_shipment", payload)
    return {"shipment_id": f"ship-{order_id}", "carrier": "statekit-post"}


def release_stock(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, Mapping) or not payload.get("reservation_id"):
        raise ActivityFailed(
            "InvalidInput", f"release_stock needs a 'reservation_id', got {payload!r}"
        )
    return {"released": payload["reservation_id"]}


def refund_payment(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, Mapping) or not payload.get("payment_id"):
        raise ActivityFailed(
            "InvalidInput", f"refund_payment needs a 'payment_id', got {payload!r}"
        )
    # A declined charge moved no money: refunding it is a no-op, not an error.
    refunded = payload.get("amount") if payload.get("status") != "declined" else 0
    return {"refunded": payload["payment_id"], "amount": refunded}


ACTIVITIES: dict[str, Activity] = {
    "reserve_stock": reserve_stock,
    "charge_payment": charge_payment,
    "create_shipment": create_shipment,
    "release_stock": release_stock,
    "refund_payment": refund_payment,
}


def run_activity(envelope: Any, activities: Mapping[str, Activity] = ACTIVITIES) -> Any:
    """Run ``{"activity": name, "input": ...}``; raises ``ActivityFailed`` on failure."""
    if not isinstance(envelope, Mapping) or "activity" not in envelope:
        raise ActivityFailed(
            "InvalidInput", f"expected {{'activity': name, 'input': ...}}, got {envelope!r}"
        )
    activity = activities.get(envelope["activity"])
    if activity is None:
        raise UnknownActivity(envelope["activity"])
    return activity(envelope.get("input"))
