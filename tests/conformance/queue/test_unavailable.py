"""A queue's stand-in stopped mid-run: bounded BackendUnavailable, never a hang; recovery.

One test over every queue case with a restartable stand-in (queue/cases/).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from statekit.errors import BackendUnavailable
from statekit.queue import Queue, open_queue
from tests.conformance.fault import BOUND_SECONDS, restartable_cases, start_own, timed_unavailable
from tests.conformance.queue.conftest import QUEUE_CASES
from tests.conformance.registry import Restartable

RECOVERY_SECONDS = 60.0


@pytest.fixture(params=restartable_cases(QUEUE_CASES))
def outage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Restartable]:
    with start_own(QUEUE_CASES[request.param], tmp_path, monkeypatch) as own:
        yield own


def test_stopped_standin_gives_backend_unavailable_then_recovers(outage: Restartable) -> None:
    queue: Queue = open_queue(outage.url).provision()
    try:
        queue.send("before")
        [message] = queue.receive(wait=2)
        outage.stop()

        timed_unavailable(lambda: queue.send("during"))
        timed_unavailable(lambda: queue.receive(wait=1))
        timed_unavailable(lambda: queue.ack(message))
        timed_unavailable(lambda: queue.release(message))
        started = time.monotonic()
        result = queue.send_many([{"n": n} for n in range(12)])
        assert time.monotonic() - started < BOUND_SECONDS
        assert not result.ids and len(result.failed) == 12
        assert all(isinstance(e, BackendUnavailable) for e in result.failed.values())

        outage.restart()  # same port: the client made before the stop reaches it
        # gRPC channels back off between reconnects (up to minutes after a long outage),
        # so the first calls after a restart may still fail: recovery within a bound.
        deadline = time.monotonic() + RECOVERY_SECONDS
        while True:
            try:
                queue.provision()  # in-memory stand-ins keep nothing across a restart
                break
            except BackendUnavailable:
                if time.monotonic() > deadline:
                    raise
        queue.send("after")
        [back] = queue.receive(wait=2)
        assert back.body == "after"
        queue.ack(back)
    finally:
        queue.close()
