"""``state-aws-<env>``: the AWS state stack, one construct per component."""

from __future__ import annotations

from cdktn import TerraformOutput, TerraformStack
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.provider import AwsProvider
from constructs import Construct

import modules.aws.policy  # noqa: F401  (registers the AWS policy rules)
from modules.aws.cache import Cache
from modules.aws.context import AwsContext
from modules.aws.dashboard import StateDashboard
from modules.aws.database import Database
from modules.aws.functions import FunctionAccess, Functions
from modules.aws.kms import StackKey
from modules.aws.memcached import MemcachedCache
from modules.aws.network import Network
from modules.aws.observability import (
    Alerts,
    dead_letter_alarm,
    function_error_alarm,
    monthly_budget,
    workflow_failure_alarm,
)
from modules.aws.orchestrator import Orchestrator, state_machine_name
from modules.aws.postgres import AuroraPostgres
from modules.aws.queue import Queue
from modules.common.settings import StackSettings
from modules.common.stack import StateStack, StateUrls

# cdktn-provider-aws 25.x is generated from hashicorp/aws 6.x; the stack uses no 6.x-only
# argument, so 5.100 (the version in the offline provider mirror) validates it too.
AWS_PROVIDER_CONSTRAINT = ">= 5.100.0, < 7.0.0"


class AwsStateStack(StateStack):
    def __init__(self, scope: Construct, settings: StackSettings) -> None:
        super().__init__(scope, settings)
        AwsProvider(self, "aws", region=settings.region)
        self.add_override("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT)
        identity = DataAwsCallerIdentity(self, "identity")
        partition = DataAwsPartition(self, "partition")
        key = (
            StackKey(
                self,
                "key",
                alias=self.naming.name("key"),
                account_id=identity.account_id,
                partition=partition.partition,
                region=settings.region,
            )
            if settings.database.customer_managed_key
            else None
        )
        ctx = AwsContext(
            stack=self,
            settings=settings,
            naming=self.naming,
            account_id=identity.account_id,
            partition=partition.partition,
            key_arn=key.arn if key else None,
            region=settings.region,
        )
        on = settings.components

        postgres = settings.database.engine == "postgres"
        self.database = None if postgres else Database(self, "database", ctx)
        self.queue = Queue(self, "queue", ctx) if on.queue else None
        self.network = None
        self.cache: Cache | MemcachedCache | None = None
        if on.cache or postgres:
            services = (
                ["secretsmanager"]
                + (["sqs"] if on.queue else [])
                + (["states"] if on.orchestrator else [])
                # The functions' X-Ray daemon sends segments from inside the VPC.
                + (["xray"] if settings.observability.tracing else [])
            )
            self.network = Network(self, "network", ctx, interface_services=services)
        if on.cache and self.network:
            memcached = settings.cache.engine == "memcached"
            self.cache = (MemcachedCache if memcached else Cache)(self, "cache", ctx, self.network)
        self.postgres = (
            AuroraPostgres(self, "postgres", ctx, self.network)
            if postgres and self.network
            else None
        )
        store_url = (
            self.postgres.url(settings.region)
            if self.postgres
            else Database.url(self.database, settings.region)  # type: ignore[arg-type]
        )
        workflow_name = state_machine_name(ctx) if on.orchestrator else None

        self.urls = StateUrls(
            store=store_url,
            cache=self.cache.url() if self.cache else None,
            queue=self.queue.url(ctx) if self.queue else None,
            workflow=f"stepfunctions://{settings.region}/{ctx.account_id}/{workflow_name}"
            if workflow_name
            else None,
        )
        self.functions = Functions(
            self,
            "functions",
            ctx,
            environment=self.urls.environment(),
            network=self.network,
            access=FunctionAccess(
                table_arn=self.database.arn if self.database else None,
                queue_arns=[self.queue.arn, self.queue.dlq_arn] if self.queue else None,
                secret_arn=self.cache.secret_arn if self.cache else None,
            ),
        )
        if self.queue:
            self.functions.trigger(ctx, self.queue.arn)
        self.orchestrator = (
            Orchestrator(
                self, "orchestrator", ctx, activity_arn=self.functions.functions["activity"].arn
            )
            if on.orchestrator
            else None
        )
        if self.orchestrator and workflow_name:
            self.functions.grant_workflow(
                self.orchestrator.arn, ctx.arn("states", f"execution:{workflow_name}")
            )

        # The alert topic needs a key CloudWatch and Budgets may use (modules/aws/kms.py):
        # the stack key, or in an environment without one, a key for the topic alone.
        alerts_key = key or StackKey(
            self,
            "alerts-key",
            alias=self.naming.name("alerts-key"),
            account_id=identity.account_id,
            partition=partition.partition,
            region=settings.region,
            description="the alert topic",
        )
        if self.postgres:
            self.postgres.grant_connect(ctx, self.functions.role.name)
        alerts = Alerts(self, "alerts", ctx, key_arn=alerts_key.arn)
        if self.queue:
            dead_letter_alarm(alerts, ctx, self.queue.dlq_name)
        for role, name in self.functions.names.items():
            function_error_alarm(alerts, ctx, role, name)
        if self.orchestrator:
            workflow_failure_alarm(alerts, ctx, self.orchestrator.arn)
        StateDashboard(
            self,
            "dashboard",
            ctx,
            alert_topic_arn=alerts.arn,
            functions=list(self.functions.names.values()),
            queues=[self.queue.name] if self.queue else [],
            dead_letter_queues=[self.queue.dlq_name] if self.queue else [],
            state_machines=[self.orchestrator.arn] if self.orchestrator else [],
        )
        if on.budget:
            monthly_budget(self, ctx, alerts)
        self.publish_urls(self.urls)
        TerraformOutput(
            self,
            "http_endpoint",
            value=self.functions.http_url.function_url,
            description="the http function's URL (IAM-signed requests only)",
        )


def build(scope: Construct, settings: StackSettings) -> TerraformStack:
    return AwsStateStack(scope, settings)
