"""One Step Functions state machine per workflow of the App; logging and X-Ray on.

Every task invokes the App's activity function; the state machines share one role
allowed to invoke exactly that function.
"""

from __future__ import annotations

from typing import Any

from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineEncryptionConfiguration,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)
from constructs import Construct

from ..common.workflow import resource_name, step_functions_definition
from .context import AwsContext, allow, policy_document
from .observability import log_group


def state_machine_name(ctx: AwsContext, workflow: Any) -> str:
    return ctx.naming.name(resource_name(workflow), max_length=80)


class Orchestrator(Construct):
    """``stepfunctions://REGION/ACCOUNT/STATE_MACHINE_NAME`` per workflow (docs/urls.md)."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        ctx: AwsContext,
        *,
        workflows: list[Any],
        activity_arn: str,
    ) -> None:
        super().__init__(scope, id_)
        settings = ctx.settings.orchestrator
        self.ctx = ctx
        statements = [
            allow(["lambda:InvokeFunction"], [activity_arn, f"{activity_arn}:*"], "InvokeActivity"),
            # Log delivery and X-Ray APIs do not support resource-level permissions.
            allow(
                [
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ],
                ["*"],
                "LogDelivery",
            ),
            allow(
                [
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ],
                ["*"],
                "Tracing",
            ),
        ]
        if ctx.key_arn:
            statements.append(
                allow(["kms:Decrypt", "kms:GenerateDataKey"], [ctx.key_arn], "StackKey")
            )
        role = IamRole(
            self,
            "role",
            name=ctx.naming.name("workflow"),
            assume_role_policy=policy_document(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "states.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ),
        )
        IamRolePolicy(
            self,
            "policy",
            role=role.id,
            name="statekit-workflow",
            policy=policy_document(*statements),
        )
        self.names: dict[str, str] = {}
        self.definitions: dict[str, str] = {}
        self.state_machines: dict[str, SfnStateMachine] = {}
        for workflow in workflows:
            key = resource_name(workflow)
            name = state_machine_name(ctx, workflow)
            logs = log_group(self, f"{key}-logs", ctx, f"/aws/vendedlogs/states/{name}")
            self.names[str(workflow.name)] = name
            self.definitions[str(workflow.name)] = step_functions_definition(workflow, activity_arn)
            self.state_machines[str(workflow.name)] = SfnStateMachine(
                self,
                key,
                name=name,
                role_arn=role.arn,
                type=settings.type.upper(),
                definition=self.definitions[str(workflow.name)],
                logging_configuration=SfnStateMachineLoggingConfiguration(
                    log_destination=f"{logs.arn}:*",
                    # Execution data holds a run's input and results (card tokens): kept
                    # out of production logs. Step Functions logs it only when asked
                    # (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html).
                    include_execution_data=not ctx.settings.production,
                    level=settings.log_level,
                ),
                tracing_configuration=SfnStateMachineTracingConfiguration(enabled=settings.tracing),
                encryption_configuration=SfnStateMachineEncryptionConfiguration(
                    type="CUSTOMER_MANAGED_KMS_KEY",
                    kms_key_id=ctx.key_arn,
                    kms_data_key_reuse_period_seconds=300,
                )
                if ctx.key_arn
                else None,
            )
        self.arns = {name: machine.arn for name, machine in self.state_machines.items()}

    def url(self, workflow_name: str) -> str:
        ctx = self.ctx
        return f"stepfunctions://{ctx.region}/{ctx.account_id}/{self.names[workflow_name]}"
