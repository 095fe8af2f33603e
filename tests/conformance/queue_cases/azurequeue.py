"""Azure Queue Storage on azurite: delay, dead letters in QUEUE-poison; no dedup, no order."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conformance.registry import Case
from tests.standins.azurite import AzuriteQueue
from tests.standins.base import StandInPool


def azure_url(standins: StandInPool, workdir: Path) -> str:
    azurite = standins.get("azurite")
    assert isinstance(azurite, AzuriteQueue)
    os.environ.update(azurite.client_env())
    return azurite.queue_url("{queue}")


CASE = Case(name="azurequeue", url=azure_url, needs_module="azure.storage.queue")
