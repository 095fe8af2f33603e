"""SQS FIFO queues on moto server: dedup within 5 minutes, ordered, no per-message delay."""

from __future__ import annotations

from tests.conformance.queue_cases.sqs import sqs_url
from tests.conformance.registry import Case

MOTO_FIFO_REDELIVERY = (
    "moto 5.2 FIFO: after a visibility timeout only the last unacked message of the group "
    "comes back, the earlier ones only after it is acked (SQS redelivers them all, in order)"
)

CASE = Case(
    name="sqs-fifo",
    url=lambda standins, workdir: sqs_url(standins, workdir, ".fifo"),
    xfail={"test_partial_batch_failure_leaves_exactly_the_failed_messages": MOTO_FIFO_REDELIVERY},
    needs_module="boto3",
)
