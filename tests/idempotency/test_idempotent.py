"""``@idempotent`` over every store backend: once per key, replays, races, crashes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from statekit.idempotency import (
    AlreadyInProgress,
    IdempotencyKeyMismatch,
    ResultNotReplayable,
    function_deadline,
    idempotent,
)
from tests.idempotency.conftest import CountingStore


class Body:
    """A function body that counts its runs and can be held or made to fail."""

    def __init__(self, hold: float = 0.0) -> None:
        self.runs = 0
        self.hold = hold
        self.fail_next = False
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], *_: Any) -> dict[str, Any]:
        with self.lock:
            self.runs += 1
            fail, self.fail_next = self.fail_next, False
        if self.hold:
            time.sleep(self.hold)
        if fail:
            raise RuntimeError("payment service down")
        return {"charged": event["amount"], "order": event["order_id"]}


def test_first_call_runs_and_duplicates_replay(store: CountingStore) -> None:
    body = Body()
    charge = idempotent(store=store, key="order_id")(body)
    event = {"order_id": "o-1", "amount": 30}
    assert charge(event) == {"charged": 30, "order": "o-1"}
    assert charge(dict(event)) == {"charged": 30, "order": "o-1"}
    assert body.runs == 1
    assert charge({"order_id": "o-2", "amount": 30})["order"] == "o-2"
    assert body.runs == 2


def test_first_call_is_two_writes_and_a_replay_one_round_trip(store: CountingStore) -> None:
    charge = idempotent(store=store, key="order_id")(Body())
    event = {"order_id": "o-1", "amount": 30}
    store.reset()
    charge(event)
    assert store.calls == {"get": 0, "put": 2, "delete": 0}
    store.reset()
    charge(event)
    # The refused if_absent write returns the record (Conflict.current) on these backends.
    assert store.calls == {"get": 0, "put": 1, "delete": 0}


def test_read_first_makes_a_replay_exactly_one_read(store: CountingStore) -> None:
    charge = idempotent(store=store, key="order_id", read_first=True)(Body())
    event = {"order_id": "o-1", "amount": 30}
    store.reset()
    charge(event)
    assert store.calls == {"get": 1, "put": 2, "delete": 0}
    store.reset()
    charge(event)
    assert store.calls == {"get": 1, "put": 0, "delete": 0}


def _burst(call: Any, event: dict[str, Any], callers: int = 20) -> list[Any]:
    start = threading.Barrier(callers)

    def one(_: int) -> Any:
        start.wait()
        try:
            return call(dict(event))
        except AlreadyInProgress as exc:
            return exc

    with ThreadPoolExecutor(callers) as pool:
        return list(pool.map(one, range(callers)))


def test_concurrent_duplicates_run_the_body_once(store: CountingStore) -> None:
    body = Body(hold=0.3)
    charge = idempotent(store=store, key="order_id")(body)
    outcomes = _burst(charge, {"order_id": "o-1", "amount": 30})
    assert body.runs == 1
    results = [o for o in outcomes if not isinstance(o, AlreadyInProgress)]
    refused = [o for o in outcomes if isinstance(o, AlreadyInProgress)]
    assert results and all(r == {"charged": 30, "order": "o-1"} for r in results)
    assert len(results) + len(refused) == 20
    assert all("still in progress" in str(exc) for exc in refused)


def test_waiting_duplicates_all_get_the_result(store: CountingStore) -> None:
    body = Body(hold=0.3)
    charge = idempotent(store=store, key="order_id", on_duplicate="wait", wait_timeout=10)(body)
    outcomes = _burst(charge, {"order_id": "o-1", "amount": 30})
    assert body.runs == 1
    assert outcomes == [{"charged": 30, "order": "o-1"}] * 20


def test_waiting_gives_up_after_wait_timeout(store: CountingStore) -> None:
    body = Body(hold=1.0)
    charge = idempotent(store=store, key="order_id", on_duplicate="wait", wait_timeout=0.2)(body)
    event = {"order_id": "o-1", "amount": 30}
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(charge, event)
        time.sleep(0.1)
        started = time.monotonic()
        with pytest.raises(AlreadyInProgress, match="after waiting"):
            charge(dict(event))
        assert time.monotonic() - started < 0.8
        assert first.result()["order"] == "o-1"
    assert body.runs == 1


def test_hung_first_call_is_taken_over_after_its_expiry(store: CountingStore) -> None:
    release = threading.Event()
    runs: list[str] = []

    def body(event: dict[str, Any]) -> str:
        runs.append(event["who"])
        if event["who"] == "first":
            release.wait(10)  # hangs past its in-progress expiry, like a crashed call
        return str(event["who"])

    call = idempotent(store=store, key="order_id", payload="order_id", in_progress_expiry=1)(body)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(call, {"order_id": "o-1", "who": "first"})
        time.sleep(0.2)
        with pytest.raises(AlreadyInProgress):
            call({"order_id": "o-1", "who": "second"})
        time.sleep(1.0)  # past the in-progress expiry
        assert call({"order_id": "o-1", "who": "second"}) == "second"
        release.set()
        assert first.result() == "first"  # it ran; its late result is not stored
    assert runs == ["first", "second"]
    assert call({"order_id": "o-1", "who": "third"}) == "second"


def test_different_payload_under_the_same_key_is_refused(store: CountingStore) -> None:
    body = Body(hold=0.3)
    charge = idempotent(store=store, key="order_id")(body)
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(charge, {"order_id": "o-1", "amount": 30})
        time.sleep(0.1)
        with pytest.raises(IdempotencyKeyMismatch, match="different payload"):
            charge({"order_id": "o-1", "amount": 99})  # while in progress
        running.result()
    with pytest.raises(IdempotencyKeyMismatch, match="different payload"):
        charge({"order_id": "o-1", "amount": 99})  # after completion
    assert body.runs == 1


def test_failure_removes_the_record_so_a_retry_runs(store: CountingStore) -> None:
    body = Body()
    charge = idempotent(store=store, key="order_id")(body)
    event = {"order_id": "o-1", "amount": 30}
    body.fail_next = True
    with pytest.raises(RuntimeError, match="payment service down"):
        charge(event)
    assert charge(event) == {"charged": 30, "order": "o-1"}
    assert charge(event) == {"charged": 30, "order": "o-1"}
    assert body.runs == 2


def test_non_json_result_is_a_clear_error_and_not_recorded(store: CountingStore) -> None:
    runs: list[int] = []

    @idempotent(store=store, key=lambda n: n)
    def make(n: int) -> Any:
        runs.append(n)
        return {"when": object()} if len(runs) == 1 else {"ok": n}

    with pytest.raises(ResultNotReplayable, match="JSON-compatible"):
        make(1)
    assert make(1) == {"ok": 1}
    assert make(1) == {"ok": 1}
    assert runs == [1, 1]


def test_result_expires_with_ttl(store: CountingStore) -> None:
    body = Body()
    charge = idempotent(store=store, key="order_id", ttl=0.5)(body)
    event = {"order_id": "o-1", "amount": 30}
    charge(event)
    charge(event)
    time.sleep(0.7)
    charge(event)
    assert body.runs == 2


def test_callable_key_over_any_function(store: CountingStore) -> None:
    runs: list[tuple[str, int]] = []

    @idempotent(store=store, key=lambda user, amount, **_: f"{user}:{amount}")
    def transfer(user: str, amount: int, note: str = "") -> list[Any]:
        runs.append((user, amount))
        return [user, amount]

    assert transfer("ann", 5) == ["ann", 5]
    assert transfer("ann", 5) == ["ann", 5]
    with pytest.raises(IdempotencyKeyMismatch):
        transfer("ann", 5, note="different")  # same key, different payload
    assert transfer("bob", 5) == ["bob", 5]
    assert runs == [("ann", 5), ("bob", 5)]


class LambdaContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_lambda_context_sets_the_expiry_and_is_not_payload(store: CountingStore) -> None:
    body = Body()
    handler = idempotent(store=store, key="order_id")(body)
    event = {"order_id": "o-1", "amount": 30}
    seen: list[float] = []
    original_put = store.put

    def spy(key: str, value: Any, **options: Any) -> Any:
        if options.get("if_absent"):
            seen.append(value["in_progress_until"] - time.time())
        return original_put(key, value, **options)

    store.put = spy  # type: ignore[method-assign]
    handler(event, LambdaContext(7_000))
    handler(event, LambdaContext(2_000))  # another context: still a replay, not a mismatch
    assert body.runs == 1
    assert 6.0 < seen[0] <= 7.0


def test_function_deadline_sets_the_expiry(store: CountingStore) -> None:
    seen: list[float] = []
    original_put = store.put

    def spy(key: str, value: Any, **options: Any) -> Any:
        if options.get("if_absent"):
            seen.append(value["in_progress_until"] - time.time())
        return original_put(key, value, **options)

    store.put = spy  # type: ignore[method-assign]
    handler = idempotent(store=store, key="order_id")(Body())
    with function_deadline(time.time() + 12):
        handler({"order_id": "o-1", "amount": 1})
    handler({"order_id": "o-2", "amount": 1})
    assert 11.0 < seen[0] <= 12.0
    assert seen[1] > 250  # the documented default when nothing tells the remaining time


def test_a_waiting_duplicate_runs_the_body_when_the_first_call_fails(
    store: CountingStore,
) -> None:
    body = Body(hold=0.3)
    body.fail_next = True
    charge = idempotent(store=store, key="order_id", on_duplicate="wait", wait_timeout=10)(body)
    event = {"order_id": "o-1", "amount": 30}
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(charge, event)
        time.sleep(0.1)
        assert charge(dict(event)) == {"charged": 30, "order": "o-1"}  # ran it itself
        with pytest.raises(RuntimeError, match="payment service down"):
            first.result()
    assert body.runs == 2
