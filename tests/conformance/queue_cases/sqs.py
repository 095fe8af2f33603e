"""SQS standard queues on moto server: per-message delay, no dedup, no ordering."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conformance.registry import Case
from tests.standins.base import StandInPool


def sqs_url(standins: StandInPool, workdir: Path, suffix: str = "") -> str:
    moto = standins.get("moto")
    os.environ.update({k: v for k, v in moto.client_env().items() if k != "AWS_ENDPOINT_URL"})
    return (
        f"sqs://sqs.us-east-1.amazonaws.com/123456789012/{{queue}}{suffix}?endpoint={moto.endpoint}"
    )


CASE = Case(name="sqs", url=sqs_url, needs_module="boto3")
