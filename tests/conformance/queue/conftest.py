"""Fixtures of the queue suite: a session param over queue/cases/, a fresh queue per test.

A case's URL carries ``{queue}`` where the queue name goes; every test opens a
queue of its own (``q<random>``), provisioned with its dead-letter queue, so
tests never see each other's messages and a run needs no cleanup.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator

import pytest

from statekit.queue import Queue, open_queue
from tests.conformance.queue.receiving import QueueFactory, with_params
from tests.conformance.registry import Case, register_suite
from tests.standins.base import StandInPool, StandInUnavailable

QUEUE_CASES = register_suite("queue")


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
