"""What calls each Lambda function: its URL or public HTTP API, the queue, the schedule.

- HTTP, not public: a function URL that accepts only IAM-signed requests (API
  Gateway v2 payload). Public: an API Gateway HTTP API (payload 2.0) whose
  ``$default`` route proxies every path to the function, with access logs.
- Queue consumer: an SQS event source mapping with ``ReportBatchItemFailures``
  (only failed messages return to the queue), created after the role's policy.
- Schedule: an EventBridge Scheduler schedule (UTC) that invokes the function with
  a role allowed to invoke exactly the schedule functions.
Each HTTP function's address is a ``<name>_endpoint`` output.
"""

from __future__ import annotations

import json

from cdktn import TerraformOutput
from cdktn_provider_aws.apigatewayv2_api import Apigatewayv2Api
from cdktn_provider_aws.apigatewayv2_integration import Apigatewayv2Integration
from cdktn_provider_aws.apigatewayv2_route import Apigatewayv2Route
from cdktn_provider_aws.apigatewayv2_stage import (
    Apigatewayv2Stage,
    Apigatewayv2StageAccessLogSettings,
)
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingScalingConfig,
)
from cdktn_provider_aws.lambda_function import LambdaFunction
from cdktn_provider_aws.lambda_function_url import LambdaFunctionUrl
from cdktn_provider_aws.lambda_permission import LambdaPermission
from cdktn_provider_aws.scheduler_schedule import (
    SchedulerSchedule,
    SchedulerScheduleFlexibleTimeWindow,
    SchedulerScheduleTarget,
    SchedulerScheduleTargetRetryPolicy,
)
from constructs import Construct

from statekit.app import parse_cron

from ..common.app import DeployedFunction
from .context import AwsContext, allow, policy_document
from .observability import log_group

# One JSON line per request on the public API (API Gateway's $context variables).
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "time": "$context.requestTime",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "status": "$context.status",
    "latencyMs": "$context.responseLatency",
}


class Triggers(Construct):
    def __init__(self, scope: Construct, id_: str, ctx: AwsContext) -> None:
        super().__init__(scope, id_)
        self.ctx = ctx
        self.endpoints: dict[str, str] = {}
        self.schedules: dict[str, SchedulerSchedule] = {}
        self._scheduler_role: IamRole | None = None
        self._scheduled: list[str] = []

    def http(self, function: DeployedFunction, target: LambdaFunction) -> str:
        name = function.name
        if function.public:
            api = Apigatewayv2Api(
                self,
                f"{name}-api",
                name=self.ctx.naming.name(name),
                protocol_type="HTTP",
                description=f"public HTTP API of the {name} function",
            )
            integration = Apigatewayv2Integration(
                self,
                f"{name}-integration",
                api_id=api.id,
                integration_type="AWS_PROXY",
                integration_uri=target.invoke_arn,
                payload_format_version="2.0",
            )
            Apigatewayv2Route(
                self,
                f"{name}-route",
                api_id=api.id,
                route_key="$default",
                target=f"integrations/{integration.id}",
            )
            access_logs = log_group(
                self, f"{name}-api-logs", self.ctx, f"/aws/apigateway/{self.ctx.naming.name(name)}"
            )
            Apigatewayv2Stage(
                self,
                f"{name}-stage",
                api_id=api.id,
                name="$default",
                auto_deploy=True,
                access_log_settings=Apigatewayv2StageAccessLogSettings(
                    destination_arn=access_logs.arn, format=json.dumps(ACCESS_LOG_FORMAT)
                ),
            )
            LambdaPermission(
                self,
                f"{name}-api-invokes",
                action="lambda:InvokeFunction",
                function_name=target.function_name,
                principal="apigateway.amazonaws.com",
                source_arn=f"{api.execution_arn}/*/*",
            )
            endpoint = api.api_endpoint
            description = f"the {name} function's public HTTP API"
        else:
            url = LambdaFunctionUrl(
                self,
                f"{name}-url",
                function_name=target.function_name,
                authorization_type="AWS_IAM",
            )
            endpoint = url.function_url
            description = f"the {name} function's URL (IAM-signed requests only)"
        self.endpoints[name] = endpoint
        TerraformOutput(
            self, f"{name}-endpoint", value=endpoint, description=description
        ).override_logical_id(f"{name.replace('-', '_')}_endpoint")
        return endpoint

    def queue(
        self,
        function: DeployedFunction,
        target: LambdaFunction,
        queue_arn: str,
        policy: IamRolePolicy,
    ) -> LambdaEventSourceMapping:
        return LambdaEventSourceMapping(
            self,
            f"{function.name}-queue",
            event_source_arn=queue_arn,
            function_name=target.arn,
            batch_size=function.batch_size,
            # Only failed messages return to the queue; the rest of the batch is deleted.
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=LambdaEventSourceMappingScalingConfig(maximum_concurrency=10),
            depends_on=[policy],
        )

    def schedule(self, function: DeployedFunction, target: LambdaFunction) -> SchedulerSchedule:
        ctx = self.ctx
        role, policy = self._scheduler(target.arn)
        schedule = SchedulerSchedule(
            self,
            f"{function.name}-schedule",
            name=ctx.naming.name(function.name, 64),
            schedule_expression=parse_cron(function.cron, function.name).eventbridge(),
            schedule_expression_timezone="UTC",
            flexible_time_window=SchedulerScheduleFlexibleTimeWindow(mode="OFF"),
            kms_key_arn=ctx.key_arn,
            target=SchedulerScheduleTarget(
                arn=target.arn,
                role_arn=role.arn,
                input=json.dumps({"statekit_schedule": function.name}),
                retry_policy=SchedulerScheduleTargetRetryPolicy(maximum_retry_attempts=2),
            ),
            depends_on=[policy],
        )
        self.schedules[function.name] = schedule
        return schedule

    def _scheduler(self, function_arn: str) -> tuple[IamRole, IamRolePolicy]:
        """The one role EventBridge Scheduler assumes; its policy lists every schedule target."""
        ctx = self.ctx
        self._scheduled.append(function_arn)
        statements = [allow(["lambda:InvokeFunction"], list(self._scheduled), "InvokeSchedules")]
        if ctx.key_arn:
            statements.append(allow(["kms:Decrypt"], [ctx.key_arn], "StackKey"))
        if self._scheduler_role is None:
            self._scheduler_role = IamRole(
                self,
                "scheduler-role",
                name=ctx.naming.name("scheduler", 64),
                assume_role_policy=policy_document(
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "scheduler.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
                    }
                ),
            )
            self._scheduler_policy = IamRolePolicy(
                self,
                "scheduler-policy",
                role=self._scheduler_role.id,
                name="invoke-schedules",
                policy=policy_document(*statements),
            )
        else:
            self._scheduler_policy.policy = policy_document(*statements)
        return self._scheduler_role, self._scheduler_policy
