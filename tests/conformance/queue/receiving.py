"""What the queue suite's tests share: the queue factory's type and the receive loops."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from statekit.queue import Message, Queue

QueueFactory = Callable[..., Queue]


def with_params(url: str, **params: object) -> str:
    extra = urlencode({k: str(v) for k, v in params.items() if v is not None})
    if not extra:
        return url
    return f"{url}{'&' if '?' in url else '?'}{extra}"


def drain(
    queue: Queue, count: int, *, visibility: int = 30, timeout: float = 15.0
) -> list[Message]:
    """Receive until ``count`` messages arrived (or ``timeout``); never acks."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        wanted = min(10, count - len(got))
        got.extend(queue.receive(wanted, wait=1, visibility=visibility))
    return got


def drain_acked(queue: Queue, count: int, *, timeout: float = 20.0) -> list[Message]:
    """Receive and ack until ``count`` arrived: a FIFO queue hands out no more of a
    message group while earlier ones are unacked, so holding them would stall."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        batch = queue.receive(min(10, count - len(got)), wait=1)
        assert not queue.ack_many(batch)
        got.extend(batch)
    return got


def settle_empty(queue: Queue, seconds: float = 1.0) -> list[Message]:
    """What a queue hands out within ``seconds``: expected to be nothing."""
    return queue.receive(10, wait=seconds, visibility=30)
