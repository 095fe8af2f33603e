"""SQS standard queues on moto server: per-message delay, no dedup, no ordering."""

from __future__ import annotations

import os
from pathlib import Path

from statekit.queue import QueueCapability
from tests.conformance.registry import Case, Restartable
from tests.standins import moto
from tests.standins.base import StandInPool


def _sdk_env(server: moto.MotoServer) -> dict[str, str]:
    # The URL names the endpoint; AWS_ENDPOINT_URL would send the SDK there for every service.
    return {k: v for k, v in server.client_env().items() if k != "AWS_ENDPOINT_URL"}


def _url(endpoint: str, queue: str) -> str:
    return f"sqs://sqs.us-east-1.amazonaws.com/123456789012/{queue}?endpoint={endpoint}"


def sqs_url(standins: StandInPool, workdir: Path, suffix: str = "") -> str:
    server = standins.get("moto")
    assert isinstance(server, moto.MotoServer)
    os.environ.update(_sdk_env(server))
    return _url(server.endpoint, f"{{queue}}{suffix}")


def _restartable(workdir: Path) -> Restartable:
    server = moto.create(workdir)
    server.start()  # in memory: the queue is provisioned again after a restart
    return Restartable(standin=server, url=_url(server.endpoint, "faults"), env=_sdk_env(server))


CASE = Case(
    name="sqs",
    url=sqs_url,
    capabilities=frozenset(
        {QueueCapability.DELAY, QueueCapability.DEAD_LETTER, QueueCapability.ATTEMPTS}
    ),
    restartable=_restartable,
    needs_module="boto3",
)
