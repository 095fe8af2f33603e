"""``make demo``: the main job on the embedded default, printing what it does.

Runs with nothing installed but Python: the store on SQLite under ``.statekit/``.
"""

from __future__ import annotations

import time

import statekit
from statekit import Check, Conflict, Put


def say(step: str, detail: object = "") -> None:
    print(f"  {step:<44} {detail}")


def store_walkthrough() -> None:
    store = statekit.open_store()
    run = f"demo-{int(time.time())}"
    print(f"store: {store.backend.name} ({getattr(store.backend, 'path', '')}), partition {run!r}")

    cart = store.put(f"{run}/cart", {"items": []}, ttl=3600)
    say("put cart (ttl 1 h)", f"etag={cart.etag}")
    store.update(f"{run}/cart", lambda c: {"items": [*c["items"], "book"]})
    say("update: add a book (etag-checked loop)", store.get(f"{run}/cart").value)  # type: ignore[union-attr]
    try:
        store.put(f"{run}/cart", {"items": []}, if_match=cart.etag)
    except Conflict as conflict:
        say("put with the stale etag", f"Conflict: {conflict.rule}")
    store.put(f"{run}/order-1", {"total": 12}, if_absent=True)
    try:
        store.put(f"{run}/order-1", {"total": 99}, if_absent=True)
    except Conflict:
        say("second if_absent write of order-1", "Conflict: first write wins")
    say("increment views x3", [store.increment(f"{run}/views") for _ in range(3)])
    current = store.get(f"{run}/cart")
    assert current is not None
    store.transact(
        [Check(f"{run}/cart", if_match=current.etag), Put(f"{run}/order-2", {"total": 7})]
    )
    say("transaction: check cart + put order-2", "applied together")
    batch = store.put_many({f"{run}/item-{i}": i for i in range(5)})
    say("put_many 5 items", f"succeeded={len(batch.succeeded)} failed={len(batch.failed)}")
    page = store.list(f"{run}/item-", limit=3)
    rest = store.list(f"{run}/item-", cursor=page.cursor)
    say("list by prefix, pages of 3", f"{page.keys} then {rest.keys}")
    short = store.put(f"{run}/flash", "gone soon", ttl=0.2)
    time.sleep(0.3)
    say("read after its ttl", store.get(short.key))
    deleted = store.delete_many([k for k in store.list(f"{run}/", limit=100).keys])
    say("clean up", f"deleted {len(deleted.succeeded)} keys")


def main() -> None:
    print("statekit demo: the embedded default (SQLite), nothing else needed\n")
    store_walkthrough()


if __name__ == "__main__":
    main()
