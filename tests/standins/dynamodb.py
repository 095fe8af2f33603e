"""DynamoDB stand-in: moto server with its DynamoDB requests made atomic, as DynamoDB's are.

moto evaluates a ``ConditionExpression`` and then writes without a lock, and its
server is threaded: two concurrent writers can both pass the same condition. With
plain boto3 and no statekit, 8 threads doing 50 compare-and-set loops each on one
item ended at 399, not 400 (moto 5.2.5). DynamoDB makes every single-item write,
and each transaction, atomic. The launcher (``_moto_atomic_dynamodb.py``) runs the
same moto application with one lock around DynamoDB requests; SQS, Step Functions
and the rest stay concurrent (SQS long polls must not block). Everything else,
including ``client_env``, is the moto stand-in's.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.standins.moto import MotoServer

LAUNCHER = Path(__file__).with_name("_moto_atomic_dynamodb.py")


class AtomicDynamoDB(MotoServer):
    name = "dynamodb"

    def command(self) -> list[str]:
        super().command()  # the same check that moto[server] is installed
        # -P: not this folder on sys.path, where moto.py would shadow the moto package.
        return [sys.executable, "-P", str(LAUNCHER), str(self.port)]


def create(workdir: Path) -> AtomicDynamoDB:
    return AtomicDynamoDB(workdir)
