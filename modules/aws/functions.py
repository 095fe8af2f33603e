"""One Lambda function per function of the App, each with its own role and trigger.

Every function runs the kit's runtime (``statekit.runtime.aws.handle``), which reads
``STATEKIT_APP`` and ``STATEKIT_FUNCTION`` to call the App's handler. Its role names
exact ARNs: the table, the queue and its DLQ, the cache secret, the state machines
(and their executions), the stack key, its own log group, plus what the function
declares in ``permissions`` (``PERMISSIONS`` below). Only X-Ray and VPC network
interfaces need ``*`` (those APIs have no resource-level permissions). Triggers
(function URL or public HTTP API, queue mapping, schedule) are in triggers.py.

Create-time order: CreateFunction checks the role then and there (the VPC
permissions for ``vpc_config``: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions),
and IAM is eventually consistent, so every function depends on its role's
access policy and VPC-access attachment. The state machines' permission is a
second policy per role, attached after the state machines (``grant_workflow``):
a state machine names the activities function, so one policy naming both would
make that function wait for nothing and start before its permissions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktn import ITerraformDependable
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktn_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from constructs import Construct

from ..common.app import AppSource, DeployedFunction
from .context import AwsContext, allow, policy_document
from .dashboard import telemetry_layers
from .network import Network
from .observability import log_group
from .package import CodePackage
from .triggers import Triggers

# The one entry point of every function: the runtime dispatches on STATEKIT_FUNCTION.
HANDLER = "statekit.runtime.aws.handle"
STORE_ACTIONS = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
]
QUEUE_ACTIONS = [
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
]
WORKFLOW_ACTIONS = [
    "states:StartExecution",
    "states:DescribeExecution",
    "states:StopExecution",
    "states:GetExecutionHistory",
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    # The client reads the compensation states' activities from the definition.
    "states:DescribeStateMachine",
]
# The portable permission names of statekit.app, as IAM: (actions, resource under the account).
PERMISSIONS: dict[str, tuple[list[str], str]] = {
    "send_email": (["ses:SendEmail", "ses:SendRawEmail"], "ses:identity/*"),
}


class UnknownPermission(ValueError):
    """A function declares a permission this cloud has no mapping for."""


def permission_statement(ctx: AwsContext, function: DeployedFunction) -> dict[str, Any] | None:
    """The IAM statement granting what ``function`` declares, scoped to this account."""
    actions: list[str] = []
    resources: list[str] = []
    for permission in function.permissions:
        if permission not in PERMISSIONS:
            raise UnknownPermission(
                f"function {function.name!r}: permission {permission!r} has no AWS mapping "
                f"(known: {', '.join(sorted(PERMISSIONS))})"
            )
        granted, resource = PERMISSIONS[permission]
        service, _, path = resource.partition(":")
        actions += granted
        resources.append(ctx.arn(service, path))
    if not actions:
        return None
    return allow(sorted(set(actions)), sorted(set(resources)), "Declared")


@dataclass(frozen=True)
class FunctionAccess:
    """The exact resources the functions may use from their start; ``None`` for a component off.

    The state machines are granted after they exist (``Functions.grant_workflow``).
    """

    table_arn: str | None  # None: the store is PostgreSQL (modules/aws/postgres.py grants it)
    queue_arns: list[str] | None = None
    secret_arn: str | None = None


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        ctx: AwsContext,
        *,
        app: AppSource,
        functions: list[DeployedFunction],
        environment: dict[str, str],
        network: Network | None,
        access: FunctionAccess,
    ) -> None:
        super().__init__(scope, id_)
        settings = ctx.settings.functions
        package = CodePackage(
            self,
            "package",
            settings.runtime,
            app.packages,
            telemetry=ctx.settings.observability.tracing,
        )
        self.declared = {function.name: function for function in functions}
        self.names = {function.name: ctx.naming.name(function.name) for function in functions}
        self.log_groups: dict[str, CloudwatchLogGroup] = {
            name: log_group(self, f"{name}-logs", ctx, f"/aws/lambda/{function_name}")
            for name, function_name in self.names.items()
        }
        self.roles: dict[str, IamRole] = {}
        self.policies: dict[str, IamRolePolicy] = {}
        shared = self._shared_statements(ctx, access)
        self.functions: dict[str, LambdaFunction] = {}
        for function in functions:
            name = function.name
            role = IamRole(
                self,
                f"{name}-role",
                name=ctx.naming.name(f"{name}-fn", 64),
                assume_role_policy=policy_document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ),
            )
            self.roles[name] = role
            # Everything CreateFunction checks exists first (module docstring).
            self.policies[name] = self._access_policy(ctx, function, shared)
            permissions: list[ITerraformDependable] = [self.policies[name]]
            if network is not None:
                # ENI management for VPC functions: AWS's managed policy (ec2 is not resource-scoped).
                permissions.append(
                    IamRolePolicyAttachment(
                        self,
                        f"{name}-vpc-access",
                        role=role.name,
                        policy_arn=f"arn:{ctx.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
                    )
                )
            self.functions[name] = LambdaFunction(
                self,
                name,
                function_name=self.names[name],
                role=role.arn,
                handler=HANDLER,
                runtime=settings.runtime,
                architectures=[settings.architecture],
                memory_size=function.memory_mb,
                timeout=function.timeout_s,
                filename=package.path,
                source_code_hash=package.hash,
                environment=LambdaFunctionEnvironment(
                    variables={**environment, **function.environment(app.ref)}
                ),
                kms_key_arn=ctx.key_arn,
                # The ADOT collector layer when the environment names one (modules/aws/dashboard.py).
                layers=telemetry_layers(ctx) or None,
                tracing_config=LambdaFunctionTracingConfig(
                    mode="Active" if ctx.settings.observability.tracing else "PassThrough"
                ),
                logging_config=LambdaFunctionLoggingConfig(
                    log_format="JSON", log_group=self.log_groups[name].name
                ),
                vpc_config=LambdaFunctionVpcConfig(
                    subnet_ids=network.subnet_ids, security_group_ids=[network.function_sg.id]
                )
                if network
                else None,
                reserved_concurrent_executions=(
                    settings.reserved_concurrency if settings.reserved_concurrency >= 0 else None
                ),
                # No dead_letter_config: it applies to asynchronous invocations only
                # (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html),
                # and every invocation here is synchronous: the function URL or HTTP API,
                # Step Functions' Task, and the SQS event source mapping, whose failed
                # messages reach the queue's own dead-letter queue by its redrive policy
                # (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html).
                # EventBridge Scheduler retries and gives up on its own (triggers.py).
                depends_on=[self.log_groups[name], *permissions],
            )
        self.triggers = Triggers(self, "triggers", ctx)
        for function in functions:
            if function.kind == "http":
                self.triggers.http(function, self.functions[function.name])

    def of_kind(self, kind: str) -> list[DeployedFunction]:
        return [function for function in self.declared.values() if function.kind == kind]

    @staticmethod
    def _shared_statements(ctx: AwsContext, access: FunctionAccess) -> list[dict[str, Any]]:
        """What every role may use: exact ARNs of what exists before the functions."""
        shared = [
            *([allow(STORE_ACTIONS, [access.table_arn], "Store")] if access.table_arn else []),
            # X-Ray has no resource-level permissions.
            allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"], "Tracing"),
        ]
        if access.queue_arns:
            shared.append(allow(QUEUE_ACTIONS, access.queue_arns, "Queue"))
        if access.secret_arn:
            shared.append(
                allow(["secretsmanager:GetSecretValue"], [access.secret_arn], "CacheSecret")
            )
        if ctx.key_arn:
            shared.append(allow(["kms:Decrypt", "kms:GenerateDataKey"], [ctx.key_arn], "StackKey"))
        return shared

    def _access_policy(
        self, ctx: AwsContext, function: DeployedFunction, shared: list[dict[str, Any]]
    ) -> IamRolePolicy:
        """One role's policy: the shared statements, its own log group, what it declares."""
        name = function.name
        statements = [
            *shared,
            allow(
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [f"{self.log_groups[name].arn}:*"],
                "Logs",
            ),
        ]
        declared = permission_statement(ctx, function)
        if declared is not None:
            statements.append(declared)
        return IamRolePolicy(
            self,
            f"{name}-policy",
            role=self.roles[name].id,
            name=ctx.naming.name(f"{name}-access", 128),
            policy=policy_document(*statements),
        )

    def grant_workflow(
        self, ctx: AwsContext, state_machine_arns: list[str], execution_arn_prefixes: list[str]
    ) -> None:
        """A second policy per role for the state machines and their executions, attached
        once they exist (the activities function reports task tokens; the others start
        and describe runs)."""
        resources = [*state_machine_arns, *(f"{prefix}:*" for prefix in execution_arn_prefixes)]
        for name, role in self.roles.items():
            IamRolePolicy(
                self,
                f"{name}-workflow-policy",
                role=role.id,
                name=ctx.naming.name(f"{name}-workflow", 128),
                policy=policy_document(allow(WORKFLOW_ACTIONS, resources, "Workflow")),
            )

    def trigger(self, ctx: AwsContext, queue_arn: str | None) -> None:
        """The queue and schedule triggers (CreateEventSourceMapping checks the SQS
        permissions of the role's policy, which exists by then)."""
        for function in self.of_kind("queue"):
            if queue_arn is None:
                raise ValueError(
                    f"queue consumer {function.name!r}: the environment switches the queue off "
                    "([components] queue = false)"
                )
            self.triggers.queue(
                function, self.functions[function.name], queue_arn, self.policies[function.name]
            )
        for function in self.of_kind("schedule"):
            self.triggers.schedule(function, self.functions[function.name])
