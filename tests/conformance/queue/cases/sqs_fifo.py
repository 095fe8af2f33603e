"""SQS FIFO queues on moto server: dedup within 5 minutes, ordered, no per-message delay."""

from __future__ import annotations

from statekit.queue import QueueCapability
from tests.conformance.queue.cases.sqs import sqs_url
from tests.conformance.registry import Case

MOTO_FIFO_REDELIVERY = (
    "moto 5.2 FIFO: after a visibility timeout only the last unacked message of the group "
    "comes back, the earlier ones only after it is acked (SQS redelivers them all, in order)"
)

CASE = Case(
    name="sqs-fifo",
    url=lambda standins, workdir: sqs_url(standins, workdir, ".fifo"),
    capabilities=frozenset(
        {
            QueueCapability.DEDUP,
            QueueCapability.ORDERING,
            QueueCapability.DEAD_LETTER,
            QueueCapability.ATTEMPTS,
        }
    ),
    xfail={"test_partial_batch_failure_leaves_exactly_the_failed_messages": MOTO_FIFO_REDELIVERY},
    needs_module="boto3",
)
