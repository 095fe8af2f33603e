"""Step Functions state machine from the project's one workflow definition; logging and X-Ray on."""

from __future__ import annotations

from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineEncryptionConfiguration,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)
from constructs import Construct

from modules.aws.context import AwsContext, allow, policy_document
from modules.aws.observability import log_group
from modules.common.workflow import step_functions_definition, workflow_name


def state_machine_name(ctx: AwsContext) -> str:
    return ctx.naming.name(workflow_name(), max_length=80)


class Orchestrator(Construct):
    """``stepfunctions://REGION/ACCOUNT/STATE_MACHINE_NAME`` (docs/urls.md)."""

    def __init__(self, scope: Construct, id_: str, ctx: AwsContext, *, activity_arn: str) -> None:
        super().__init__(scope, id_)
        settings = ctx.settings.orchestrator
        self.name = state_machine_name(ctx)
        logs = log_group(self, "logs", ctx, f"/aws/vendedlogs/states/{self.name}")
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
        self.definition = step_functions_definition(activity_arn)
        self.state_machine = SfnStateMachine(
            self,
            "state-machine",
            name=self.name,
            role_arn=role.arn,
            type=settings.type.upper(),
            definition=self.definition,
            logging_configuration=SfnStateMachineLoggingConfiguration(
                log_destination=f"{logs.arn}:*",
                # Execution data holds the saga's input and results (card tokens): kept
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
        self.arn = self.state_machine.arn

    def url(self, ctx: AwsContext) -> str:
        return f"stepfunctions://{ctx.region}/{ctx.account_id}/{self.name}"
