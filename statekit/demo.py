"""``make demo``: the main job on the embedded default, printing what it does.

Runs with nothing installed but Python: the store on SQLite under ``.statekit/``.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import statekit
from statekit import Check, Conflict, Put
from statekit.urls import statekit_home


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


def app_walkthrough() -> None:
    """The example app over real HTTP on ``statekit dev``: cart, order, saga, final status."""
    server = subprocess.Popen(
        [sys.executable, "-m", "statekit.cli", "dev", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        url = banner.split(" on ", 1)[1].split(" ", 1)[0]
        print(f"app: {banner.strip()}")
        run = f"{int(time.time())}"
        cart = f"demo-{run}"
        for sku, qty in (("book", 2), ("mug", 1)):
            status, body = _call(url, "POST", f"/carts/{cart}/items", {"sku": sku, "qty": qty})
            say(f"POST /carts/{cart}/items {sku} x{qty}", f"{status} {body['items']}")
        headers = {"Idempotency-Key": f"key-{run}"}
        status, order = _call(url, "POST", "/orders", {"cart_id": cart}, headers)
        say("POST /orders (Idempotency-Key)", f"{status} {order}")
        status, again = _call(url, "POST", "/orders", {"cart_id": cart}, headers)
        say(
            "POST /orders again, same key",
            f"{status} same order: {again['order_id'] == order['order_id']}",
        )
        final = _wait_for_event(url, order["order_id"])
        say(
            "GET /orders/<id>: saga and events",
            f"{final['saga']['status']}, events {final['events']}",
        )
        _call(url, "POST", f"/carts/{cart}-2/items", {"sku": "lamp", "qty": 1})
        status, failing = _call(
            url,
            "POST",
            "/orders",
            {"cart_id": f"{cart}-2", "fail_at": "create_shipment"},
            {"Idempotency-Key": f"key-{run}-2"},
        )
        failed = _wait_for_saga(url, failing["order_id"])
        say(
            "order whose shipment fails",
            f"{failed['saga']['status']}, undone: {' then '.join(failed['saga']['compensated'])}",
        )
        _approval_walkthrough(url, cart, run)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _call(
    url: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _approval_walkthrough(url: str, cart: str, run: str) -> None:
    """Orders above the approval amount wait for a manager; approved, the saga goes on,
    rejected, it is undone."""
    for suffix, approved in (("big", True), ("big-no", False)):
        big = f"{cart}-{suffix}"
        _call(url, "POST", f"/carts/{big}/items", {"sku": "lamp", "qty": 20})
        _, order = _call(
            url, "POST", "/orders", {"cart_id": big}, {"Idempotency-Key": f"{big}-{run}"}
        )
        waiting = _wait_for_saga(url, order["order_id"], until_step="manager_approval")
        say(
            f"order of {order['amount']}: waits for a manager",
            f"{waiting['saga']['status']} at {waiting['saga']['step']}",
        )
        decision = {"approved": approved, "by": "demo-manager"}
        status, _ = _call(url, "POST", f"/orders/{order['order_id']}/approval", decision)
        final = _wait_for_saga(url, order["order_id"])
        undone = " then ".join(final["saga"]["compensated"]) or "nothing"
        say(
            f"POST /orders/<id>/approval approved={approved}",
            f"{status}; saga {final['saga']['status']}, undone: {undone}",
        )


def _wait_for_saga(url: str, order_id: str, until_step: str | None = None) -> Any:
    """The order once its saga has ended (or reached ``until_step``): sagas run in the
    background, ``POST /orders`` answers at once."""
    deadline = time.monotonic() + 30
    while True:
        _, order = _call(url, "GET", f"/orders/{order_id}")
        saga = order["saga"]
        reached = saga["step"] == until_step if until_step else saga["status"] != "running"
        if reached or time.monotonic() > deadline:
            return order
        time.sleep(0.2)


def _wait_for_event(url: str, order_id: str) -> Any:
    deadline = time.monotonic() + 15
    while True:
        _, order = _call(url, "GET", f"/orders/{order_id}")
        if order["events"] or time.monotonic() > deadline:
            return order
        time.sleep(0.2)


def synthesize() -> bool:
    """Every environment's stacks for the clouds each enables (``python main.py``)."""
    if importlib.util.find_spec("cdktn") is None:
        print("synthesis skipped: the iac extra is not installed (pip install 'statekit[iac]')")
        return False
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "main.py"], cwd=_root(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        print(f"synthesis failed:\n{result.stderr[-2000:]}")
        return False
    stacks = sorted(p.name for p in (_root() / "cdktf.out" / "stacks").iterdir())
    print(
        f"synthesized {len(stacks)} stacks in {time.monotonic() - started:.1f} s into cdktf.out/stacks/:"
    )
    for stack in stacks:
        print(f"  {stack}")
    return True


def compare() -> None:
    report = Path(statekit_home()) / "report.html"
    from statekit.cli import compare as compare_command

    compare_command("dev", None, report, True)


def _root() -> Path:
    return Path(__file__).resolve().parents[1]


def main() -> None:
    print("statekit demo: the main job on the embedded default, nothing else needed\n")
    store_walkthrough()
    print()
    app_walkthrough()
    print()
    if synthesize():
        print()
        compare()


if __name__ == "__main__":
    main()
