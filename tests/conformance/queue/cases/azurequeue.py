"""Azure Queue Storage on azurite: delay, dead letters in QUEUE-poison; no dedup, no order."""

from __future__ import annotations

import os
from pathlib import Path

from statekit.queue import QueueCapability
from tests.conformance.registry import Case, Restartable
from tests.standins import azurite
from tests.standins.azurite import AzuriteQueue
from tests.standins.base import StandInPool


def azure_url(standins: StandInPool, workdir: Path) -> str:
    azurite = standins.get("azurite")
    assert isinstance(azurite, AzuriteQueue)
    os.environ.update(azurite.client_env())
    return azurite.queue_url("{queue}")


def _restartable(workdir: Path) -> Restartable:
    server = azurite.create(workdir)
    server.start()
    return Restartable(standin=server, url=server.queue_url("faults"), env=server.client_env())


CASE = Case(
    name="azurequeue",
    url=azure_url,
    capabilities=frozenset(
        {QueueCapability.DELAY, QueueCapability.DEAD_LETTER, QueueCapability.ATTEMPTS}
    ),
    restartable=_restartable,
    needs_module="azure.storage.queue",
)
