"""DynamoDB on moto server: a fresh table per session, native TTL enabled as in production.

The stand-in is moto with its DynamoDB requests serialized (tests/standins/dynamodb.py):
plain moto lets two concurrent conditional writes pass the same condition, which
DynamoDB never does, and the concurrency tests would then lose updates at random.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from statekit import Capability
from tests.conformance.registry import Case, Restartable
from tests.standins.base import StandInPool
from tests.standins.dynamodb_table import create_store_table
from tests.standins.moto import RecordingMoto


def dynamodb_url(standins: StandInPool, workdir: Path) -> str:
    moto = standins.get("dynamodb")
    os.environ.update(moto.client_env())  # the suite is one process: the SDK reads these
    table = f"conformance-{uuid.uuid4().hex[:8]}"
    create_store_table(moto.endpoint, table)
    return f"dynamodb://{table}?region=us-east-1"


def _restartable(workdir: Path) -> Restartable:
    # moto keeps its state in memory; with its request recorder on, the restarted server
    # replays every request the old one received: what was written before the stop is
    # there again, and nothing of the calls made while it was down.
    server = RecordingMoto(workdir)
    server.start()
    create_store_table(server.endpoint, "faults")
    return Restartable(
        standin=server,
        url=f"dynamodb://faults?region=us-east-1&endpoint={server.endpoint}",
        env=server.client_env(),
        keeps_data=True,
        after_restart=server.replay,
    )


CASE = Case(
    name="dynamodb",
    url=dynamodb_url,
    capabilities=frozenset(Capability),
    restartable=_restartable,
    needs_module="boto3",
)
