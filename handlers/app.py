"""The example app, written once: carts, products, orders and order events.

It knows nothing of clouds: it reaches state only through statekit, built
from the four ``STATEKIT_*_URL`` variables (or the embedded default).

Keys and partitions: ``product-<sku>`` (read through cache-aside),
``cart-<id>/cart`` (deleted by the nightly job ``ABANDONED_AFTER`` its last edit;
its TTL ``CART_TTL`` is the backstop), ``open-carts/<id>`` (the index the job walks), ``order-<id>/order``; every cart or order
is its own partition.

``APP`` at the end declares it for the kit (statekit.app): its HTTP API, its
order-event consumer, its nightly job and the order saga.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import statekit
from handlers.approval import workflow_for  # also makes its workflow known to the local driver
from handlers.http import BadRequest, NotFound
from handlers.logs import current_correlation_id, log
from statekit.errors import Conflict
from statekit.queue.backend import QueueCapability
from statekit.workflows import workflow_url_variable

CART_TTL = 7 * 24 * 3600
OPEN_CARTS = "open-carts/"  # the index of live carts the nightly job walks
INDEX_GRACE = 24 * 3600  # an index entry outlives its cart by a night, for the job to see
ABANDONED_AFTER = 3 * 24 * 3600  # the nightly job deletes carts idle this long
PRODUCT_CACHE_TTL = 300
MAX_QTY = 99
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

CATALOG: dict[str, dict[str, Any]] = {
    "book": {"sku": "book", "name": "A good book", "price": 12.5, "stock": 100},
    "mug": {"sku": "mug", "name": "Coffee mug", "price": 8.0, "stock": 100},
    "lamp": {"sku": "lamp", "name": "Desk lamp", "price": 31.0, "stock": 100},
}


class PoisonEvent(ValueError):
    """An order event that can never be processed: it belongs in the dead-letter queue."""


def check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise BadRequest(
            f"{what}: expected 1 to 64 letters, digits, '.', '_' or '-', got {value!r}"
        )
    return value



@functools.cache
def _engine(url: str) -> Any:
    """One client per engine URL per process, reused by warm invocations."""
    return statekit.open_workflows(url)


@dataclass
class Shop:
    store: statekit.Store
    cache: Any  # statekit.cache.Cache
    queue: Any  # statekit.queue.Queue
    workflows: Any  # statekit.workflows.WorkflowClient

    @classmethod
    def from_environment(cls) -> Shop:
        """Built once per process (a cold start) and reused by warm invocations."""
        return cls(
            store=statekit.open_store(),
            cache=statekit.open_cache(),
            queue=statekit.open_queue(),
            workflows=statekit.open_workflows(),
        )

    def engine_for(self, workflow: Any) -> Any:
        """The engine running ``workflow``: a deployed stack has one per workflow, named by
        ``STATEKIT_WORKFLOW_URL_<NAME>``; elsewhere ``workflows`` runs them all."""
        variable = workflow_url_variable(workflow)
        url = os.environ.get(variable)
        return _engine(url) if url else self.workflows

    @cached_property
    def products(self) -> Any:
        from statekit.cache.aside import CacheAside

        return CacheAside(self.store, self.cache, ttl=PRODUCT_CACHE_TTL)

    # -- products ---------------------------------------------------------------------
    def seed_products(self) -> None:
        for sku, product in CATALOG.items():
            self.store.put(f"product-{sku}", product)

    def seed_products_if_missing(self) -> None:
        """A fresh store (a laptop's, a new stack's) gets the catalog: one read otherwise."""
        if self.store.get(f"product-{next(iter(CATALOG))}") is None:
            for sku, product in CATALOG.items():
                with contextlib.suppress(Conflict):  # another instance seeded it first
                    self.store.put(f"product-{sku}", product, if_absent=True)

    def get_product(self, sku: str) -> dict[str, Any]:
        product: dict[str, Any] | None = self.products.get(f"product-{check_id(sku, 'sku')}")
        if product is None:
            raise NotFound(f"product {sku!r} does not exist")
        return product

    # -- carts ------------------------------------------------------------------------
    def get_cart(self, cart_id: str) -> dict[str, Any]:
        item = self.store.get(f"cart-{check_id(cart_id, 'cart id')}/cart")
        if item is None:
            raise NotFound(f"cart {cart_id!r} does not exist (or expired)")
        return {"cart_id": cart_id, **item.value}

    def add_item(self, cart_id: str, body: dict[str, Any]) -> dict[str, Any]:
        sku = check_id(body.get("sku"), "body.sku")
        qty = body.get("qty", 1)
        if type(qty) is not int or not 1 <= qty <= MAX_QTY:
            raise BadRequest(f"body.qty: expected an integer from 1 to {MAX_QTY}, got {qty!r}")
        self.get_product(sku)  # 404 for an unknown product, through the cache

        def add(cart: dict[str, Any] | None) -> dict[str, Any]:
            items = dict((cart or {}).get("items", {}))
            items[sku] = min(MAX_QTY, items.get(sku, 0) + qty)
            return {"items": items}

        # Optimistic concurrency: two clients editing one cart both land (etag loop).
        item = self.store.update(f"cart-{check_id(cart_id, 'cart id')}/cart", add, ttl=CART_TTL)
        self._index_open_cart(cart_id, item.expires_at)
        log("cart.item_added", cart_id=cart_id, sku=sku, qty=qty)
        return {"cart_id": cart_id, **item.value}

    def remove_item(self, cart_id: str, sku: str) -> dict[str, Any]:
        key = f"cart-{check_id(cart_id, 'cart id')}/cart"
        check_id(sku, "sku")
        if self.store.get(key) is None:
            raise NotFound(f"cart {cart_id!r} does not exist (or expired)")

        def remove(cart: dict[str, Any] | None) -> dict[str, Any]:
            items = dict((cart or {}).get("items", {}))
            items.pop(sku, None)
            return {"items": items}

        item = self.store.update(key, remove, ttl=CART_TTL)
        return {"cart_id": cart_id, **item.value}

    # -- the nightly cleanup ----------------------------------------------------------
    def _index_open_cart(self, cart_id: str, expires_at: float | None) -> None:
        """One entry per live cart under ``open-carts/``: a partition the nightly job can
        list (each cart is its own partition, and no store lists across partitions)."""
        self.store.put(
            f"{OPEN_CARTS}{cart_id}", {"expires_at": expires_at}, ttl=CART_TTL + INDEX_GRACE
        )

    def cleanup_expired_carts(self, now: float | None = None) -> dict[str, int]:
        """Delete carts left idle for ``ABANDONED_AFTER`` and the index entries of carts gone.

        A cart's TTL is only the backstop: a backend hides an expired item at once but
        frees its storage when the service sweeps (DynamoDB within days) or never (an
        embedded file). Each delete is conditional on the etag read, so a cart edited
        while the job runs is kept.
        """
        now = time.time() if now is None else now
        summary = {"checked": 0, "deleted": 0, "kept": 0}
        for entry in list(self.store.iter_prefix(OPEN_CARTS)):
            summary["checked"] += 1
            key = f"cart-{entry.key[len(OPEN_CARTS) :]}/cart"
            cart = self.store.get(key)
            try:
                if cart is not None:
                    last_edit = (cart.expires_at or now) - CART_TTL
                    if now - last_edit < ABANDONED_AFTER:
                        summary["kept"] += 1
                        continue
                    self.store.delete(key, if_match=cart.etag)
                self.store.delete(entry.key, if_match=entry.etag)
            except Conflict:  # edited meanwhile: alive
                summary["kept"] += 1
                continue
            summary["deleted"] += 1
        log("carts.cleanup", **summary)
        return summary

    # -- orders -----------------------------------------------------------------------
    def place_order(self, body: dict[str, Any], idempotency_key: str | None) -> dict[str, Any]:
        """One order per Idempotency-Key: a double submit replays the first answer."""
        if idempotency_key is None:
            raise BadRequest("header Idempotency-Key: required to place an order")
        check_id(idempotency_key, "header Idempotency-Key")
        result: dict[str, Any] = self._place_once(idempotency_key, body)
        return result

    @cached_property
    def _place_once(self) -> Any:
        from statekit.idempotency import idempotent

        # A duplicate in flight waits for the first call's answer instead of failing:
        # a client's retry of a slow submit gets its order, not an error.
        @idempotent(store=self.store, key=lambda key, body: key, ttl=24 * 3600, on_duplicate="wait")
        def place(key: str, body: dict[str, Any]) -> dict[str, Any]:
            return self._place(body)

        return place

    def _place(self, body: dict[str, Any]) -> dict[str, Any]:
        cart_id = check_id(body.get("cart_id"), "body.cart_id")
        cart = self.get_cart(cart_id)
        if not cart["items"]:
            raise BadRequest(f"cart {cart_id!r} is empty")
        lines = [
            {"sku": sku, "qty": qty, "price": self.get_product(sku)["price"]}
            for sku, qty in sorted(cart["items"].items())
        ]
        order_id = f"o{uuid.uuid4().hex[:16]}"
        correlation_id = current_correlation_id()
        order = {
            "order_id": order_id,
            "cart_id": cart_id,
            "items": lines,
            "amount": round(sum(line["qty"] * line["price"] for line in lines), 2),
            "events": [],
            "correlation_id": correlation_id,
        }
        self.store.put(f"order-{order_id}/order", order, if_absent=True)
        saga_input = {
            "order_id": order_id,
            "items": lines,
            "amount": order["amount"],
            "card": body.get("card", "4242"),
            "address": body.get("address", "1 Main St"),
            "correlation_id": correlation_id,
        }
        if "fail_at" in body:  # lets a demo or test make a saga step fail on purpose
            saga_input["fail_at"] = body["fail_at"]
        # Orders above APPROVAL_AMOUNT wait for a manager (handlers/approval.py).
        workflow = workflow_for(order["amount"])
        self.engine_for(workflow).start(workflow, saga_input, id=order_id)
        event = {"type": "order_placed", "order_id": order_id, "correlation_id": correlation_id}
        # Where the queue deduplicates (FIFO SQS, the embedded queue) a resent event is
        # dropped at the source; everywhere else the consumer applies an event once.
        if QueueCapability.DEDUP in self.queue.capabilities:
            self.queue.send(event, dedup_id=order_id)
        else:
            self.queue.send(event)
        log("order.placed", order_id=order_id, amount=order["amount"])
        return {"order_id": order_id, "amount": order["amount"], "status": "placed"}

    def order_status(self, order_id: str) -> dict[str, Any]:
        item = self.store.get(f"order-{check_id(order_id, 'order id')}/order")
        if item is None:
            raise NotFound(f"order {order_id!r} does not exist")
        run = self.engine_for(workflow_for(item.value["amount"])).status(order_id)
        return {
            "order_id": order_id,
            "amount": item.value["amount"],
            "events": item.value["events"],
            "saga": {
                "status": run.status,
                "step": run.step,
                "error": run.error,
                "compensated": list(run.compensated),
            },
        }

    def approve_order(self, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A manager's decision on an order waiting for approval (handlers/approval.py)."""
        from handlers.approval import APPROVAL_EVENT, approval_event

        item = self.store.get(f"order-{check_id(order_id, 'order id')}/order")
        if item is None:
            raise NotFound(f"order {order_id!r} does not exist")
        decision = approval_event(body)
        self.engine_for(workflow_for(item.value["amount"])).send_event(
            order_id, APPROVAL_EVENT, decision
        )
        log("order.approval", order_id=order_id, approved=decision["approved"])
        return {"order_id": order_id, **decision}

    # -- order events (the queue consumer) --------------------------------------------
    def handle_order_event(self, event: Any) -> None:
        """Record an order event on its order; an event that can never apply is poison."""
        if not isinstance(event, dict) or event.get("type") not in {
            "order_placed",
            "order_shipped",
        }:
            raise PoisonEvent(f"unknown order event: {event!r}")
        order_id = event.get("order_id")
        if not isinstance(order_id, str) or not _ID.match(order_id):
            raise PoisonEvent(f"order event without a valid order_id: {event!r}")
        key = f"order-{order_id}/order"
        if self.store.get(key) is None:
            raise PoisonEvent(f"order event for an unknown order {order_id!r}")

        def record(order: dict[str, Any] | None) -> dict[str, Any]:
            assert order is not None
            if event["type"] in order["events"]:  # at-least-once delivery: apply once
                return order
            return {**order, "events": [*order["events"], event["type"]]}

        self.store.update(key, record)
        log("order.event", order_id=order_id, type=event["type"])


@functools.cache
def get_app() -> Shop:
    """The process's shop: made on the first (cold) invocation, reused by warm ones."""
    shop = Shop.from_environment()
    shop.seed_products_if_missing()
    return shop


# -- the declaration: what the kit deploys, serves (statekit dev) and compares ------------
from handlers.approval import APPROVED_ORDER_SAGA  # noqa: E402
from handlers.saga import ORDER_SAGA  # noqa: E402  (the saga's module imports no handlers.app)
from statekit.app import App, Http, QueueConsumer, Schedule  # noqa: E402

APP = App(
    "shop",
    code=["handlers"],
    functions=[
        Http("api", "handlers.http:handle", public=False),
        QueueConsumer("order-events", "handlers.consumer:handle"),
        Schedule("nightly", "handlers.jobs:nightly", cron="0 3 * * *"),
    ],
    workflows=[ORDER_SAGA, APPROVED_ORDER_SAGA],
)
