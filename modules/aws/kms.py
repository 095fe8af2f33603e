"""The stack's customer-managed KMS key (production): one key, rotated, with a written policy."""

from __future__ import annotations

from cdktn_provider_aws.kms_alias import KmsAlias
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from .context import policy_document


class StackKey(Construct):
    """Encrypts the table, queues, secret, logs, topic and function environment.

    Where the environment keeps AWS-managed keys (``customer_managed_key = false``)
    the stack still creates this key for the alert topic alone: CloudWatch alarms
    and Budgets can publish only to a topic whose key policy lets them use the key,
    which ``alias/aws/sns`` never does
    (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
    Every statement for a service principal is tied to this account (confused deputy:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alias: str,
        account_id: str,
        partition: str,
        region: str,
        description: str = "state, queues, secrets, logs",
    ) -> None:
        super().__init__(scope, id_)
        root = f"arn:{partition}:iam::{account_id}:root"
        service_use = [
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ]
        policy = policy_document(
            {
                # Key administration stays with the account's IAM policies (AWS's default key policy).
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsEncrypt",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": service_use,
                "Resource": "*",
                # CloudWatch Logs' documented guard: the log group's ARN, in this account,
                # in the encryption context
                # (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html).
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"
                    }
                },
            },
            {
                # Alarms and budgets publish to the encrypted alert topic
                # (CloudWatch: sns-key-management.html above; Budgets:
                # https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html).
                "Sid": "AlertPublishers",
                "Effect": "Allow",
                "Principal": {"Service": ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        )
        self.key = KmsKey(
            self,
            "key",
            description=f"statekit {alias}: {description}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy,
        )
        KmsAlias(self, "alias", name=f"alias/{alias}", target_key_id=self.key.key_id)
        self.arn = self.key.arn
