"""Each queue backend against a plain model of at-least-once delivery and attempt counts.

Hypothesis sends, receives, acks and releases; the model says which messages may
come (sent, not acked, not held by this consumer) and how many deliveries each
had. A receive may return fewer messages than are available (SQS samples its
servers), never one that is acked or held, and ``attempts`` counts deliveries
(0 where the service does not count). At the end every message not acked is
delivered again: nothing is lost.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from statekit.queue import Message, Queue
from tests.conformance.model_settings import model_settings

SETTINGS = model_settings(ci=(4, 12), fuzz=(100, 40))
DRAIN_SECONDS = 20.0


class QueueAgainstModel(RuleBasedStateMachine):
    make_queue: Any

    def __init__(self) -> None:
        super().__init__()
        self.queue: Queue = self.make_queue()
        self.sent: set[str] = set()  # bodies sent and not acked
        self.held: dict[str, Message] = {}  # body -> the message this consumer holds
        self.deliveries: dict[str, int] = {}

    @rule(body=st.text(max_size=8))
    def send(self, body: str) -> None:
        unique = f"{uuid.uuid4().hex[:8]}:{body}"
        self.queue.send(unique)
        self.sent.add(unique)
        self.deliveries[unique] = 0

    @rule(count=st.integers(1, 5))
    def receive(self, count: int) -> None:
        for message in self.queue.receive(count, visibility=60):
            body = message.body
            assert body in self.sent, f"received {body!r}: never sent, or already acked"
            assert body not in self.held, f"received {body!r} while holding it"
            self.deliveries[body] += 1
            if message.attempts:
                assert message.attempts == self.deliveries[body]
            self.held[body] = message

    @precondition(lambda self: bool(self.held))
    @rule(pick=st.integers(0, 100))
    def ack(self, pick: int) -> None:
        body = sorted(self.held)[pick % len(self.held)]
        self.held.pop(body).ack()
        self.sent.discard(body)

    @precondition(lambda self: bool(self.held))
    @rule(pick=st.integers(0, 100))
    def release(self, pick: int) -> None:
        body = sorted(self.held)[pick % len(self.held)]
        self.held.pop(body).release()

    def teardown(self) -> None:
        try:
            for message in self.held.values():
                message.release()
            waiting = set(self.sent)
            deadline = time.monotonic() + DRAIN_SECONDS
            while waiting and time.monotonic() < deadline:
                for message in self.queue.receive(10, wait=1, visibility=60):
                    assert message.body in self.sent
                    waiting.discard(message.body)
                    message.ack()
            assert not waiting, f"lost: {sorted(waiting)}"
        finally:
            self.queue.close()


def test_queue_matches_the_model(queue_factory: Any) -> None:
    machine = type("Machine", (QueueAgainstModel,), {"make_queue": staticmethod(queue_factory)})
    run_state_machine_as_test(machine, settings=SETTINGS)
