"""A queue's stand-in stopped mid-run: bounded BackendUnavailable, never a hang; recovery."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from statekit.errors import BackendUnavailable
from statekit.queue import Queue, open_queue
from tests.standins.base import StandIn

BOUND_SECONDS = 15.0
RECOVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Outage:
    standin: str  # module in tests/standins
    module: str  # the SDK it needs
    url: Callable[[StandIn], str]  # a fresh queue on that stand-in


def _sqs(server: StandIn) -> str:
    return f"sqs://sqs.us-east-1.amazonaws.com/123456789012/faults?endpoint={server.endpoint}"


def _azure(server: StandIn) -> str:
    from tests.standins.azurite import AzuriteQueue

    assert isinstance(server, AzuriteQueue)
    return server.queue_url("faults")


def _pubsub(server: StandIn) -> str:
    from tests.standins.pstest import PstestServer

    return PstestServer.queue_url("faults")


def _postgresql(server: StandIn) -> str:
    from tests.standins.postgresql import PostgreSQLServer

    assert isinstance(server, PostgreSQLServer)
    return server.url(queue="faults")


OUTAGES = {
    "postgresql": Outage("postgresql", "psycopg", _postgresql),
    "pubsub": Outage("pstest", "google.cloud.pubsub_v1", _pubsub),
    "sqs": Outage("moto", "boto3", _sqs),
    "azurequeue": Outage("azurite", "azure.storage.queue", _azure),
}


@pytest.fixture(params=sorted(OUTAGES))
def outage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[StandIn, Outage]]:
    case = OUTAGES[request.param]
    if importlib.util.find_spec(case.module) is None:
        pytest.skip(f"{case.module} not installed")
    module = importlib.import_module(f"tests.standins.{case.standin}")
    server: StandIn = module.create(tmp_path)  # our own: other suites never see it down
    server.start()
    for name, value in server.client_env().items():
        if name != "AWS_ENDPOINT_URL":
            monkeypatch.setenv(name, value)
    try:
        yield server, case
    finally:
        server.stop()


def timed_unavailable(call: Callable[[], object]) -> float:
    started = time.monotonic()
    with pytest.raises(BackendUnavailable):
        call()
    elapsed = time.monotonic() - started
    assert elapsed < BOUND_SECONDS, f"took {elapsed:.1f}s to give up"
    return elapsed


def test_stopped_standin_gives_backend_unavailable_then_recovers(
    outage: tuple[StandIn, Outage],
) -> None:
    server, case = outage
    queue: Queue = open_queue(case.url(server)).provision()
    try:
        queue.send("before")
        [message] = queue.receive(wait=2)
        server.stop()

        timed_unavailable(lambda: queue.send("during"))
        timed_unavailable(lambda: queue.receive(wait=1))
        timed_unavailable(lambda: queue.ack(message))
        timed_unavailable(lambda: queue.release(message))
        started = time.monotonic()
        result = queue.send_many([{"n": n} for n in range(12)])
        assert time.monotonic() - started < BOUND_SECONDS
        assert not result.ids and len(result.failed) == 12
        assert all(isinstance(e, BackendUnavailable) for e in result.failed.values())

        server.start()  # same port: the client made before the stop reaches it
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
