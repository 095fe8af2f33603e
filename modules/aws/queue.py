"""SQS queue with a dead-letter queue and redrive policy, encrypted."""

from __future__ import annotations

import json

from cdktn_provider_aws.sqs_queue import SqsQueue
from cdktn_provider_aws.sqs_queue_policy import SqsQueuePolicy
from cdktn_provider_aws.sqs_queue_redrive_allow_policy import SqsQueueRedriveAllowPolicy
from constructs import Construct

from .context import AwsContext


def _encryption(ctx: AwsContext) -> dict[str, object]:
    if ctx.key_arn:
        return {"kms_master_key_id": ctx.key_arn, "kms_data_key_reuse_period_seconds": 300}
    return {"sqs_managed_sse_enabled": True}


def tls_only_policy(queue_arn: str) -> str:
    """Deny every request that does not use TLS (SQS otherwise also accepts plain HTTP)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:*",
                    "Resource": queue_arn,
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


class Queue(Construct):
    """``sqs://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE?dlq=DLQ`` (docs/urls.md)."""

    def __init__(self, scope: Construct, id_: str, ctx: AwsContext) -> None:
        super().__init__(scope, id_)
        settings = ctx.settings.queue
        self.name = ctx.naming.name("queue")
        self.dlq_name = ctx.naming.name("queue-dlq")
        # SQS requires the visibility timeout to cover the consuming function's timeout;
        # AWS recommends six times it so retries of a slow batch do not overlap.
        visibility = max(
            settings.visibility_timeout_seconds, ctx.settings.functions.timeout_seconds * 6
        )
        self.dlq = SqsQueue(
            self,
            "dlq",
            name=self.dlq_name,
            message_retention_seconds=settings.dead_letter_retention_seconds,
            **_encryption(ctx),  # type: ignore[arg-type]
        )
        self.queue = SqsQueue(
            self,
            "queue",
            name=self.name,
            visibility_timeout_seconds=visibility,
            message_retention_seconds=settings.message_retention_seconds,
            receive_wait_time_seconds=20,
            redrive_policy=json.dumps(
                {"deadLetterTargetArn": self.dlq.arn, "maxReceiveCount": settings.max_receive_count}
            ),
            **_encryption(ctx),  # type: ignore[arg-type]
        )
        SqsQueueRedriveAllowPolicy(
            self,
            "dlq-allow",
            queue_url=self.dlq.url,
            redrive_allow_policy=json.dumps(
                {"redrivePermission": "byQueue", "sourceQueueArns": [self.queue.arn]}
            ),
        )
        for name, queue in (("queue", self.queue), ("dlq", self.dlq)):
            SqsQueuePolicy(
                self, f"{name}-tls-only", queue_url=queue.url, policy=tls_only_policy(queue.arn)
            )
        self.arn = self.queue.arn
        self.dlq_arn = self.dlq.arn

    def url(self, ctx: AwsContext) -> str:
        return f"sqs://sqs.{ctx.region}.amazonaws.com/{ctx.account_id}/{self.queue.name}?dlq={self.dlq.name}"
