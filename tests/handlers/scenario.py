"""One end-to-end scenario of the example app, run through every cloud's entry points.

A platform adapter gives ``call`` (an HTTP request through that platform's
entry point), ``deliver_events`` (drive that platform's queue trigger once over
what is waiting) and ``dead_letters`` (bodies in that platform's dead-letter
queue). The scenario then checks the same outcomes everywhere.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol


class Platform(Protocol):
    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]: ...

    def deliver_events(self) -> None: ...

    def send_event(self, body: str) -> None: ...

    def dead_letters(self) -> list[Any]: ...


def eventually(
    check: Callable[[], Any], timeout: float, what: str, platform: Platform | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if platform is not None:
            platform.deliver_events()
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def run_scenario(
    platform: Platform,
    *,
    event_timeout: float = 30.0,
    poison: bool = True,
    cart_race: bool = True,
) -> dict[str, Any]:
    """The whole scenario. For a platform whose stand-in cannot do a part, that part
    runs as its own test: ``poison=False`` leaves out the poison event
    (``run_poison_event``), ``cart_race=False`` makes the two clients' cart edits one
    after another instead of at once (``run_cart_race`` races them on its own)."""
    run = uuid.uuid4().hex[:8]
    seen: dict[str, Any] = {}

    # Products come through cache-aside; unknown ones are 404, bad ids 400.
    status, product = platform.call("GET", "/products/book")
    assert status == 200 and product["price"] == 12.5, (status, product)
    assert platform.call("GET", "/products/nosuch")[0] == 404
    status, error = platform.call("POST", f"/carts/c{run}/items", {"sku": "book", "qty": 0})
    assert status == 400 and "qty" in error["message"], (status, error)
    assert platform.call("POST", f"/carts/c{run}/items", "not json")[0] == 400
    assert platform.call("GET", f"/orders/missing{run}")[0] == 404

    cart = f"cart{run}"
    run_cart_race(platform, cart, at_once=cart_race)

    # A concurrent double submit of one order makes one order.
    key = f"idem-{run}"

    def submit(_: int) -> tuple[int, Any]:
        return platform.call("POST", "/orders", {"cart_id": cart}, {"Idempotency-Key": key})

    with ThreadPoolExecutor(2) as pool:
        first, second = list(pool.map(submit, range(2)))
    assert first[0] == 201 and second[0] == 201, (first, second)
    assert first[1]["order_id"] == second[1]["order_id"], (first, second)
    assert first[1]["amount"] == 5 * 12.5 + 5 * 8.0
    order_id = first[1]["order_id"]
    again = platform.call("POST", "/orders", {"cart_id": cart}, {"Idempotency-Key": key})
    assert again == (201, first[1]), again
    reused = platform.call("POST", "/orders", {"cart_id": f"other{run}"}, {"Idempotency-Key": key})
    assert reused[0] == 422, reused

    # The saga runs to its end (start returns at once); the order event reached the
    # consumer exactly once in effect.
    order = eventually(
        lambda: (
            (o := platform.call("GET", f"/orders/{order_id}")[1])["saga"]["status"] != "running"
            and o
        ),
        max(event_timeout, 30),
        "the end of the saga",
        platform,
    )
    assert order["saga"]["status"] == "succeeded", order
    order = eventually(
        lambda: (o := platform.call("GET", f"/orders/{order_id}")[1])["events"] and o,
        event_timeout,
        "the order_placed event",
        platform,
    )
    assert order["events"] == ["order_placed"], order
    seen["order"] = order

    # A failing third step undoes the first two, in reverse order.
    failing = f"failcart{run}"
    platform.call("POST", f"/carts/{failing}/items", {"sku": "lamp", "qty": 1})
    status, placed = platform.call(
        "POST",
        "/orders",
        {"cart_id": failing, "fail_at": "create_shipment"},
        {"Idempotency-Key": f"f{run}"},
    )
    assert status == 201, placed
    failed = eventually(
        lambda: (
            (o := platform.call("GET", f"/orders/{placed['order_id']}")[1])["saga"]["status"]
            != "running"
            and o
        ),
        max(event_timeout, 30),
        "the end of the failing saga",
        platform,
    )
    assert failed["saga"]["status"] == "compensated", failed
    assert failed["saga"]["compensated"] == ["refund_payment", "release_stock"], failed
    seen["compensated"] = failed

    if poison:
        run_poison_event(platform, event_timeout=event_timeout, run=run)
    return seen


def run_cart_race(platform: Platform, cart: str = "", *, at_once: bool = True) -> None:
    """Two clients edit one cart at once: optimistic concurrency loses no item.

    ``at_once=False`` makes the same edits one after another (the same cart results).
    """
    cart = cart or f"cart{uuid.uuid4().hex[:8]}"

    def add_five(sku: str) -> list[int]:
        return [
            platform.call("POST", f"/carts/{cart}/items", {"sku": sku, "qty": 1})[0]
            for _ in range(5)
        ]

    with ThreadPoolExecutor(2 if at_once else 1) as pool:
        statuses = [s for result in pool.map(add_five, ["book", "mug"]) for s in result]
    assert statuses == [200] * 10, statuses
    status, body = platform.call("GET", f"/carts/{cart}")
    assert status == 200 and body["items"] == {"book": 5, "mug": 5}, body


def run_poison_event(platform: Platform, *, event_timeout: float = 30.0, run: str = "") -> None:
    """A poison event ends in the dead-letter queue after the queue's max attempts."""
    run = run or uuid.uuid4().hex[:8]
    poison = {"type": "bogus", "run": run}
    platform.send_event(json.dumps(poison))
    dead = eventually(
        lambda: [d for d in platform.dead_letters() if isinstance(d, dict) and d.get("run") == run],
        event_timeout,
        "the poison event in the dead-letter queue",
        platform,
    )
    assert dead == [poison]
