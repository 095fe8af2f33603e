"""The approval flow on ``statekit dev``: an order above the approval amount waits for
a manager; approved, the saga goes on; rejected, the reservation is released."""

from __future__ import annotations

import time
from typing import Any

import pytest

from handlers.approval import APPROVAL_AMOUNT, APPROVED_ORDER_SAGA
from handlers.saga import ORDER_SAGA
from statekit.dev import DevServer
from tests.handlers.test_dev_server import DevPlatform, dev_server  # noqa: F401 (fixture)


def saga_of(platform: DevPlatform, order_id: str, until: Any, seconds: float = 30) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        status, order = platform.call("GET", f"/orders/{order_id}")
        assert status == 200, order
        if until(order["saga"]) or time.monotonic() > deadline:
            return order["saga"]
        time.sleep(0.1)


def place_big_order(platform: DevPlatform, cart: str) -> dict[str, Any]:
    platform.call("POST", f"/carts/{cart}/items", {"sku": "lamp", "qty": 20})
    status, order = platform.call("POST", "/orders", {"cart_id": cart}, {"Idempotency-Key": cart})
    assert status == 201, order
    assert order["amount"] > APPROVAL_AMOUNT
    placed: dict[str, Any] = order
    return placed


@pytest.mark.parametrize(
    ("approved", "status", "compensated"),
    [(True, "succeeded", []), (False, "compensated", ["release_stock"])],
)
def test_a_large_order_waits_for_a_manager(
    dev_server: DevServer,  # noqa: F811
    approved: bool,
    status: str,
    compensated: list[str],
) -> None:
    platform = DevPlatform(dev_server)
    order = place_big_order(platform, f"big-{approved}")
    order_id = order["order_id"]
    waiting = saga_of(platform, order_id, lambda saga: saga["step"] == "manager_approval")
    assert (waiting["status"], waiting["step"]) == ("running", "manager_approval")
    code, answer = platform.call(
        "POST", f"/orders/{order_id}/approval", {"approved": approved, "by": "ana"}
    )
    assert code == 202, answer
    assert answer == {"order_id": order_id, "approved": approved, "by": "ana"}
    final = saga_of(platform, order_id, lambda saga: saga["status"] != "running")
    assert final["status"] == status, final
    assert final["compensated"] == compensated
    if not approved:
        assert final["error"]["step"] == "not_approved"
        assert final["error"]["error"] == "NotApproved"


def test_bad_approvals_are_refused(dev_server: DevServer) -> None:  # noqa: F811
    platform = DevPlatform(dev_server)
    order = place_big_order(platform, "big-bad")
    path = f"/orders/{order['order_id']}/approval"
    code, error = platform.call("POST", path, {"approved": "yes"})
    assert code == 400 and "body.approved" in error["message"], error
    assert platform.call("POST", "/orders/nosuch/approval", {"approved": True})[0] == 404


def test_the_approval_saga_is_the_order_saga_with_a_wait() -> None:
    saga_steps = [step.name for step in ORDER_SAGA.steps]
    approval_steps = [step.name for step in APPROVED_ORDER_SAGA.steps]
    assert approval_steps[0] == saga_steps[0] and "manager_approval" in approval_steps
    assert set(saga_steps) < set(approval_steps)
