"""DynamoDB on moto server: a fresh table per session, native TTL enabled as in production.

The stand-in is moto with its DynamoDB requests serialized (tests/standins/dynamodb.py):
plain moto lets two concurrent conditional writes pass the same condition, which
DynamoDB never does, and the concurrency tests would then lose updates at random.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from tests.conformance.registry import Case
from tests.standins.base import StandInPool
from tests.standins.dynamodb_table import create_store_table


def dynamodb_url(standins: StandInPool, workdir: Path) -> str:
    moto = standins.get("dynamodb")
    os.environ.update(moto.client_env())  # the suite is one process: the SDK reads these
    table = f"conformance-{uuid.uuid4().hex[:8]}"
    create_store_table(moto.endpoint, table)
    return f"dynamodb://{table}?region=us-east-1"


CASE = Case(name="dynamodb", url=dynamodb_url, needs_module="boto3")
