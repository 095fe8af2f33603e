"""Lambda functions (http, queue consumer, workflow activity) and the role they share.

The role names exact ARNs: the table, the queue and its DLQ, the cache secret, the
state machine (and its executions), the stack key. Only X-Ray and VPC network
interfaces need ``*`` (those APIs have no resource-level permissions).

Create-time order: CreateFunction checks the role then and there (the VPC
permissions for ``vpc_config``: https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions),
and IAM is eventually consistent, so every function depends on the role's
access policy and the VPC-access attachment. The state machine's permission
is a second policy attached after the state machine (``grant_workflow``):
the state machine names the activity function, so one policy naming both
would make that function wait for nothing and start before its permissions.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn import ITerraformDependable
from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktn_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingScalingConfig,
)
from cdktn_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionEnvironment,
    LambdaFunctionLoggingConfig,
    LambdaFunctionTracingConfig,
    LambdaFunctionVpcConfig,
)
from cdktn_provider_aws.lambda_function_url import LambdaFunctionUrl
from constructs import Construct

from modules.aws.context import AwsContext, allow, policy_document
from modules.aws.network import Network
from modules.aws.observability import log_group
from modules.aws.package import CodePackage

HANDLERS = {
    "http": "handlers.aws.http_handler",
    "queue": "handlers.aws.queue_handler",
    "activity": "handlers.aws.activity_handler",
}
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
    # The client reads the compensation states' activities from the definition.
    "states:DescribeStateMachine",
]


@dataclass(frozen=True)
class FunctionAccess:
    """The exact resources the functions may use from their start; ``None`` for a component off.

    The state machine is granted after it exists (``Functions.grant_workflow``).
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
        environment: dict[str, str],
        network: Network | None,
        access: FunctionAccess,
    ) -> None:
        super().__init__(scope, id_)
        settings = ctx.settings.functions
        package = CodePackage(self, "package", settings.runtime)
        self.names = {role: ctx.naming.name(role) for role in HANDLERS}
        self.log_groups: dict[str, CloudwatchLogGroup] = {
            role: log_group(self, f"{role}-logs", ctx, f"/aws/lambda/{name}")
            for role, name in self.names.items()
        }
        self.role = IamRole(
            self,
            "role",
            name=ctx.naming.name("functions"),
            assume_role_policy=policy_document(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ),
        )
        # Everything CreateFunction checks exists first (module docstring).
        self.policy = self._access_policy(ctx, access)
        permissions: list[ITerraformDependable] = [self.policy]
        if network is not None:
            # ENI management for VPC functions: AWS's managed policy (ec2 APIs are not resource-scoped).
            permissions.append(
                IamRolePolicyAttachment(
                    self,
                    "vpc-access",
                    role=self.role.name,
                    policy_arn=f"arn:{ctx.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
                )
            )
        self.functions: dict[str, LambdaFunction] = {}
        for role, handler in HANDLERS.items():
            self.functions[role] = LambdaFunction(
                self,
                role,
                function_name=self.names[role],
                role=self.role.arn,
                handler=handler,
                runtime=settings.runtime,
                architectures=[settings.architecture],
                memory_size=settings.memory_mb,
                timeout=settings.timeout_seconds,
                filename=package.path,
                source_code_hash=package.hash,
                environment=LambdaFunctionEnvironment(variables=environment),
                kms_key_arn=ctx.key_arn,
                tracing_config=LambdaFunctionTracingConfig(
                    mode="Active" if ctx.settings.observability.tracing else "PassThrough"
                ),
                logging_config=LambdaFunctionLoggingConfig(
                    log_format="JSON", log_group=self.log_groups[role].name
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
                # and every invocation here is synchronous: the function URL, Step
                # Functions' Task, and the SQS event source mapping, whose failed
                # messages reach the queue's own dead-letter queue by its redrive policy
                # (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html).
                depends_on=[self.log_groups[role], *permissions],
            )

        # The HTTP entry point: a function URL (API Gateway v2 payload, which the handler
        # reads), callable only with IAM-signed requests; put a CDN or API in front for
        # public traffic.
        self.http_url = LambdaFunctionUrl(
            self,
            "http-url",
            function_name=self.functions["http"].function_name,
            authorization_type="AWS_IAM",
        )

    def _access_policy(self, ctx: AwsContext, access: FunctionAccess) -> IamRolePolicy:
        """The role's policy naming exact ARNs of what exists before the functions."""
        statements = [
            *([allow(STORE_ACTIONS, [access.table_arn], "Store")] if access.table_arn else []),
            allow(
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [f"{group.arn}:*" for group in self.log_groups.values()],
                "Logs",
            ),
            # X-Ray has no resource-level permissions.
            allow(["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"], "Tracing"),
        ]
        if access.queue_arns:
            statements.append(allow(QUEUE_ACTIONS, access.queue_arns, "Queue"))
        if access.secret_arn:
            statements.append(
                allow(["secretsmanager:GetSecretValue"], [access.secret_arn], "CacheSecret")
            )
        if ctx.key_arn:
            statements.append(
                allow(["kms:Decrypt", "kms:GenerateDataKey"], [ctx.key_arn], "StackKey")
            )
        return IamRolePolicy(
            self,
            "policy",
            role=self.role.id,
            name="statekit-state-access",
            policy=policy_document(*statements),
        )

    def grant_workflow(self, state_machine_arn: str, execution_arn_prefix: str) -> None:
        """A second policy for the state machine and its executions, attached once it exists."""
        IamRolePolicy(
            self,
            "workflow-policy",
            role=self.role.id,
            name="statekit-workflow-access",
            policy=policy_document(
                allow(
                    WORKFLOW_ACTIONS,
                    [state_machine_arn, f"{execution_arn_prefix}:*"],
                    "Workflow",
                )
            ),
        )

    def trigger(self, ctx: AwsContext, queue_arn: str) -> None:
        """The queue's event source mapping (CreateEventSourceMapping checks the SQS permissions)."""
        LambdaEventSourceMapping(
            self,
            "queue-trigger",
            event_source_arn=queue_arn,
            function_name=self.functions["queue"].arn,
            batch_size=ctx.settings.queue.batch_size,
            # Only failed messages return to the queue; the rest of the batch is deleted.
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=LambdaEventSourceMappingScalingConfig(maximum_concurrency=10),
            depends_on=[self.policy],
        )
