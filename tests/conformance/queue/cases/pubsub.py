"""Pub/Sub on the Go pstest fake: dead-letter policy and delivery attempts are not emulated."""

from __future__ import annotations

import os
from pathlib import Path

from statekit.queue import QueueCapability
from tests.conformance.registry import Case, Restartable
from tests.standins import pstest
from tests.standins.base import StandInPool
from tests.standins.pstest import PstestServer

NO_DEAD_LETTER_POLICY = (
    "pstest: no dead-letter policy, so delivery_attempt stays 0 and nothing is forwarded "
    "(Pub/Sub counts attempts and forwards after max_delivery_attempts)"
)


def pubsub_url(standins: StandInPool, workdir: Path) -> str:
    pstest = standins.get("pstest")
    os.environ.update(pstest.client_env())
    return PstestServer.queue_url("{queue}")


def _restartable(workdir: Path) -> Restartable:
    server = pstest.create(workdir)
    server.start()
    return Restartable(
        standin=server, url=PstestServer.queue_url("faults"), env=server.client_env()
    )


CASE = Case(
    name="pubsub",
    url=pubsub_url,
    capabilities=frozenset({QueueCapability.DEAD_LETTER, QueueCapability.ATTEMPTS}),
    restartable=_restartable,
    xfail={
        "test_attempts_count_every_delivery": NO_DEAD_LETTER_POLICY,
        "test_poison_message_reaches_the_dead_letter_queue": NO_DEAD_LETTER_POLICY,
    },
    needs_module="google.cloud.pubsub_v1",
)
