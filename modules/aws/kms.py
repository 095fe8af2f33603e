"""The stack's customer-managed KMS key (production): one key, rotated, with a written policy."""

from __future__ import annotations

from cdktn_provider_aws.kms_alias import KmsAlias
from cdktn_provider_aws.kms_key import KmsKey
from constructs import Construct

from .context import policy_document


class StackKey(Construct):
    """Encrypts the table, queues, secret, logs, topic and function environment."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alias: str,
        account_id: str,
        partition: str,
        region: str,
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
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"
                    }
                },
            },
            {
                # Alarms and budgets publish to the encrypted alert topic.
                "Sid": "AlertPublishers",
                "Effect": "Allow",
                "Principal": {"Service": ["cloudwatch.amazonaws.com", "budgets.amazonaws.com"]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
            },
        )
        self.key = KmsKey(
            self,
            "key",
            description=f"statekit {alias}: state, queues, secrets, logs",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=policy,
        )
        KmsAlias(self, "alias", name=f"alias/{alias}", target_key_id=self.key.key_id)
        self.arn = self.key.arn
