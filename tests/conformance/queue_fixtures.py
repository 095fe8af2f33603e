"""Fixtures of the queue suite: a session param over queue_cases/, a fresh queue per test.

A case's URL carries ``{queue}`` where the queue name goes; every test opens a
queue of its own (``q<random>``), provisioned with its dead-letter queue, so
tests never see each other's messages and a run needs no cleanup.
"""

from __future__ import annotations

import importlib.util
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import pytest

from statekit.queue import Message, Queue, open_queue
from tests.conformance.conftest import register_suite
from tests.conformance.registry import Case, discover
from tests.standins.base import StandInPool, StandInUnavailable

# The fixtures, for ``from tests.conformance.queue_fixtures import *`` in a test module.
__all__ = ["queue", "queue_case", "queue_factory", "queue_url_template"]

QUEUE_CASES = {case.name: case for case in discover("queue_cases")}
register_suite("queue", QUEUE_CASES)

QueueFactory = Callable[..., Queue]


def with_params(url: str, **params: object) -> str:
    extra = urlencode({k: str(v) for k, v in params.items() if v is not None})
    if not extra:
        return url
    return f"{url}{'&' if '?' in url else '?'}{extra}"


@pytest.fixture(scope="session", params=sorted(QUEUE_CASES))
def queue_case(request: pytest.FixtureRequest) -> Case:
    return QUEUE_CASES[request.param]


@pytest.fixture(scope="session")
def queue_url_template(
    queue_case: Case, standins: StandInPool, tmp_path_factory: pytest.TempPathFactory
) -> str:
    if queue_case.needs_module and importlib.util.find_spec(queue_case.needs_module) is None:
        pytest.skip(f"{queue_case.name}: optional extra missing ({queue_case.needs_module})")
    try:
        return queue_case.url(standins, tmp_path_factory.mktemp(f"queue-{queue_case.name}"))
    except StandInUnavailable as exc:
        pytest.fail(f"{queue_case.name}: stand-in unavailable: {exc}")


@pytest.fixture
def queue_factory(queue_url_template: str) -> Iterator[QueueFactory]:
    opened: list[Queue] = []

    def make(max_attempts: int | None = None, name: str | None = None) -> Queue:
        queue_name = name or f"q{uuid.uuid4().hex[:12]}"
        url = with_params(queue_url_template.format(queue=queue_name), max_attempts=max_attempts)
        queue = open_queue(url).provision()
        opened.append(queue)
        return queue

    yield make
    for queue in opened:
        queue.close()


@pytest.fixture
def queue(queue_factory: QueueFactory) -> Queue:
    return queue_factory()


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
