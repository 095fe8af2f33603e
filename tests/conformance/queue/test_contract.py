"""The queue contract, run over every backend in queue/cases/ (Dapr-style, by capability)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from statekit.errors import InvalidOption, InvalidValue, Unsupported, ValueTooLarge
from statekit.queue import (
    MAX_BODY_BYTES,
    InvalidMessage,
    MessageTooLarge,
    Queue,
    QueueCapability,
    process_batch,
)
from tests.conformance.queue.receiving import QueueFactory, drain, drain_acked, settle_empty
from tests.conformance.registry import Case

BODIES: list[Any] = [
    "",
    "plain",
    "unicode ✓ 日本語 🙂",
    0,
    -7,
    2**53,
    1.5,
    True,
    None,
    [],
    {},
    {"nested": {"deep": [{"a": 1}, {"b": [True, None]}]}},
    "x" * 40_000,
]


def test_the_backend_declares_the_expected_capabilities(queue: Queue, queue_case: Case) -> None:
    # Each capability left out is refused with Unsupported by the test of that capability.
    assert queue.capabilities == queue_case.capabilities


def test_send_then_receive_returns_each_body_unchanged(queue: Queue) -> None:
    ids = {queue.send(body): body for body in BODIES}
    assert len(ids) == len(BODIES) and all(isinstance(i, str) and i for i in ids)
    got = drain_acked(queue, len(BODIES))
    assert sorted(m.id for m in got) == sorted(ids)
    for message in got:
        assert message.body == ids[message.id]
        assert type(message.body) is type(ids[message.id])


def test_unacked_message_comes_back_after_its_visibility_timeout(queue: Queue) -> None:
    sent = queue.send({"job": 1})
    [first] = drain(queue, 1, visibility=1)
    assert first.id == sent
    assert settle_empty(queue, 0) == []  # invisible while the timeout runs
    [again] = drain(queue, 1, visibility=30)
    assert again.id == sent and again.body == {"job": 1}
    queue.ack(again)


def test_attempts_count_every_delivery(queue: Queue) -> None:
    queue.send("count me")
    [first] = drain(queue, 1, visibility=1)
    [second] = drain(queue, 1, visibility=1)
    [third] = drain(queue, 1, visibility=30)
    assert (first.attempts, second.attempts, third.attempts) == (1, 2, 3)
    queue.ack(third)


def test_ack_removes_the_message_for_good(queue: Queue) -> None:
    queue.send("once")
    [message] = drain(queue, 1, visibility=1)
    queue.ack(message)
    time.sleep(1.2)
    assert settle_empty(queue, 1) == []


def test_release_makes_the_message_visible_now(queue: Queue) -> None:
    sent = queue.send("again")
    [message] = drain(queue, 1, visibility=300)
    queue.release(message)
    started = time.monotonic()
    [back] = drain(queue, 1, timeout=5)
    assert back.id == sent and time.monotonic() - started < 5
    queue.ack(back)


def test_extend_keeps_the_message_invisible_longer(queue: Queue) -> None:
    sent = queue.send("slow work")
    [message] = drain(queue, 1, visibility=1)
    queue.extend(message, 4)
    time.sleep(1.5)  # past the first timeout, well inside the extension
    assert settle_empty(queue, 0.5) == []
    [back] = drain(queue, 1, timeout=8)
    assert back.id == sent
    queue.ack(back)


def test_dedup_id_drops_a_repeat_within_the_window(queue: Queue) -> None:
    if QueueCapability.DEDUP not in queue.capabilities:
        with pytest.raises(Unsupported, match="dedup"):
            queue.send("x", dedup_id="order-1")
        return
    queue.send({"order": 1}, dedup_id="order-1")
    queue.send({"order": 1, "repeat": True}, dedup_id="order-1")
    queue.send({"order": 2}, dedup_id="order-2")
    got = drain(queue, 3, timeout=2.5)
    assert sorted(m.body["order"] for m in got) == [1, 2]
    assert [m.body for m in got if m.body["order"] == 1] == [{"order": 1}]


def test_delay_holds_a_message_back(queue: Queue) -> None:
    if QueueCapability.DELAY not in queue.capabilities:
        with pytest.raises(Unsupported, match="delay"):
            queue.send("x", delay=2)
        queue.send("no delay is always fine", delay=0)
        return
    sent_at = time.monotonic()
    sent = queue.send("later", delay=2)
    assert settle_empty(queue, 0.5) == []
    [message] = drain(queue, 1, timeout=8)
    assert message.id == sent and time.monotonic() - sent_at >= 1.5


def test_poison_message_reaches_the_dead_letter_queue(queue_factory: QueueFactory) -> None:
    probe = queue_factory()
    if QueueCapability.DEAD_LETTER not in probe.capabilities:
        with pytest.raises(Unsupported, match="dead_letter"):
            probe.dead_letters()
        return
    attempts = max(2, probe.limits.min_max_attempts)
    queue = queue_factory(max_attempts=attempts)
    sent = queue.send({"poison": True})
    healthy = queue.send({"poison": False})
    deliveries = 0
    expected = 2
    for _ in range(attempts + 3):  # bounded: a stand-in without the policy must not hang us
        got = drain(queue, expected, visibility=1, timeout=4)
        for message in got:
            if message.id == healthy:
                queue.ack(message)
                expected = 1
            elif message.id == sent:
                deliveries += 1
        if not any(m.id == sent for m in got):
            break
    assert deliveries == attempts
    dead: list[Any] = []
    deadline = time.monotonic() + 10
    while not dead and time.monotonic() < deadline:
        dead = queue.dead_letters(10)
        if not dead:
            time.sleep(0.5)
    assert [m.body for m in dead] == [{"poison": True}]
    queue.ack(dead[0])


def test_partial_batch_failure_leaves_exactly_the_failed_messages(queue: Queue) -> None:
    for n in range(6):
        queue.send({"n": n})
    batch = drain(queue, 6, visibility=2)
    assert len(batch) == 6

    def handler(message: Any) -> None:
        if message.body["n"] % 2:
            raise RuntimeError(f"cannot handle {message.body}")

    result = process_batch(batch, handler)
    failed_ids = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    assert failed_ids == {m.id for m in batch if m.body["n"] % 2}
    back = drain(queue, 3, visibility=30, timeout=10)
    assert sorted(m.body["n"] for m in back) == [1, 3, 5]
    assert settle_empty(queue, 1) == []


def test_process_batch_over_a_queue_acks_what_succeeded(queue: Queue) -> None:
    result = queue.send_many([{"ok": True}, {"ok": False}])
    good, bad = result.ids[0], result.ids[1]
    seen: set[str] = set()
    failures: set[str] = set()

    def handler(message: Any) -> None:
        seen.add(message.id)
        if not message.body["ok"]:
            raise ValueError("no")

    deadline = time.monotonic() + 10
    while seen != {good, bad} and time.monotonic() < deadline:
        part = process_batch(queue, handler, wait=1, visibility=30, release_failed=True)
        failures |= {item["itemIdentifier"] for item in part["batchItemFailures"]}
    assert failures == {bad}
    [left] = drain(queue, 1, timeout=5)  # released at once, so back now
    assert left.id == bad


def test_ordering_where_declared(queue: Queue) -> None:
    """In send order where declared; elsewhere every message still arrives exactly once.

    Ordering is a property, not an option, so there is no call to refuse with
    Unsupported: without it the test checks delivery, not order.
    """
    for n in range(5):
        queue.send(n)
    queue.send_many(list(range(5, 15)))
    got: list[int] = []
    deadline = time.monotonic() + 15
    while len(got) < 15 and time.monotonic() < deadline:
        batch = queue.receive(10, wait=1)
        got += [m.body for m in batch]
        queue.ack_many(batch)
    if QueueCapability.ORDERING in queue.capabilities:
        assert got == list(range(15))
    else:
        assert sorted(got) == list(range(15))


def test_send_many_reports_each_failure_and_sends_the_rest(queue: Queue) -> None:
    result = queue.send_many(
        [{"n": 0}, {"bad": object()}, "x" * (MAX_BODY_BYTES + 1), {"n": 3}, {"n": 4}]
    )
    assert sorted(result.ids) == [0, 3, 4]
    assert sorted(result.failed) == [1, 2]
    assert isinstance(result.failed[1], InvalidMessage) and "#1" in str(result.failed[1])
    assert isinstance(result.failed[2], MessageTooLarge) and "#2" in str(result.failed[2])
    with pytest.raises(Exception, match="2 of 5 messages failed"):
        result.raise_for_failures()
    got = drain(queue, 3)
    assert sorted(m.body["n"] for m in got) == [0, 3, 4]


def test_send_many_over_a_native_batch(queue: Queue) -> None:
    result = queue.send_many([{"n": n} for n in range(25)])  # over SQS's 10 per batch
    assert result.ok and sorted(result.ids) == list(range(25))
    assert len(set(result.ids.values())) == 25
    got = drain_acked(queue, 25)
    assert sorted(m.body["n"] for m in got) == list(range(25))


def test_body_at_the_portable_limit_is_accepted(queue: Queue) -> None:
    body = "é" * ((MAX_BODY_BYTES - 2) // 2)  # two bytes each in UTF-8, plus the quotes
    queue.send(body)
    [message] = drain(queue, 1)
    assert message.body == body


def test_receive_on_an_empty_queue_waits_at_most_wait(queue: Queue) -> None:
    started = time.monotonic()
    assert queue.receive(1, wait=1) == []
    assert time.monotonic() - started < 4


BAD_SENDS: list[tuple[dict[str, Any], type[Exception], str]] = [
    ({"body": object()}, InvalidMessage, "JSON-compatible"),
    ({"body": float("nan")}, InvalidValue, "JSON-compatible"),
    ({"body": b"bytes"}, InvalidValue, "JSON-compatible"),
    ({"body": "x" * (MAX_BODY_BYTES + 1)}, ValueTooLarge, "portable limit is 49152"),
    ({"body": 1, "dedup_id": ""}, InvalidMessage, "dedup_id"),
    ({"body": 1, "dedup_id": "has space"}, InvalidMessage, "dedup_id"),
    ({"body": 1, "dedup_id": "x" * 129}, InvalidMessage, "at most 128"),
    ({"body": 1, "delay": -1}, InvalidOption, "delay"),
    ({"body": 1, "delay": 901}, InvalidOption, "from 0 to 900"),
    ({"body": 1, "delay": 1.5}, InvalidOption, "whole seconds"),
]


@pytest.mark.parametrize(("kwargs", "error", "text"), BAD_SENDS, ids=lambda v: str(v)[:30])
def test_bad_send_is_refused_with_a_clear_error(
    queue: Queue, kwargs: dict[str, Any], error: type[Exception], text: str
) -> None:
    options = dict(kwargs)  # the parameter is shared by every backend's run
    body = options.pop("body")
    with pytest.raises(error, match=text):
        queue.send(body, **options)
    assert settle_empty(queue, 0) == []


BAD_RECEIVES: list[tuple[dict[str, Any], str]] = [
    ({"visibility": 0}, "visibility must be whole seconds from 1 to 600"),
    ({"visibility": 601}, "visibility"),
    ({"visibility": 1.5}, "visibility"),
    ({"visibility": "30"}, "visibility"),
    ({"max_messages": 0}, "max_messages"),
    ({"max_messages": 11}, "from 1 to 10"),
    ({"wait": 21}, "wait"),
    ({"wait": -1}, "wait"),
]


@pytest.mark.parametrize(("kwargs", "text"), BAD_RECEIVES, ids=lambda v: str(v)[:30])
def test_bad_receive_options_are_refused(queue: Queue, kwargs: dict[str, Any], text: str) -> None:
    with pytest.raises(InvalidOption, match=text):
        queue.receive(**kwargs)


def test_settling_needs_a_message_from_this_queue(queue_factory: QueueFactory) -> None:
    first, second = queue_factory(), queue_factory()
    first.send(1)
    [message] = drain(first, 1)
    for call in (second.ack, second.release, lambda m: second.extend(m, 5)):
        with pytest.raises(InvalidOption, match="from this queue"):
            call(message)
    with pytest.raises(InvalidOption, match="extend seconds"):
        first.extend(message, 0)
    first.ack(message)
