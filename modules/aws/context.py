"""What every AWS construct of one stack shares: settings, names, the account and the key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cdktn import TerraformStack

from ..common.naming import Naming
from ..common.settings import StackSettings


@dataclass
class AwsContext:
    stack: TerraformStack
    settings: StackSettings
    naming: Naming
    account_id: str  # token: the deploying account (aws_caller_identity)
    partition: str  # token: aws, aws-cn, aws-us-gov
    key_arn: str | None  # customer-managed KMS key (production); None: AWS-managed keys
    region: str

    def arn(self, service: str, resource: str) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``, for ARNs not yet created."""
        return f"arn:{self.partition}:{service}:{self.region}:{self.account_id}:{resource}"


def policy_document(*statements: dict[str, Any]) -> str:
    """An IAM policy JSON string (tokens inside strings resolve at synthesis)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions: list[str], resources: list[str], sid: str = "") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if sid:
        statement["Sid"] = sid
    return statement
