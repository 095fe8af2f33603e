"""``<app>-aws-<env>``: an App's AWS stack, one construct per component."""

from __future__ import annotations

from cdktn import TerraformStack
from cdktn_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.provider import AwsProvider
from constructs import Construct

from ..common.app import AppSource
from ..common.settings import StackSettings
from ..common.stack import StateStack, StateUrls
from ..common.tracing import sampling_environment
from ..common.workflow import url_variable
from . import policy  # noqa: F401  (registers the AWS policy rules)
from .cache import Cache
from .context import AwsContext
from .dashboard import StateDashboard, telemetry_environment
from .database import Database
from .functions import FunctionAccess, Functions
from .kms import StackKey
from .memcached import MemcachedCache
from .network import Network
from .observability import (
    Alerts,
    dead_letter_alarm,
    function_error_alarm,
    monthly_budget,
    workflow_failure_alarm,
)
from .orchestrator import Orchestrator, state_machine_name
from .postgres import AuroraPostgres
from .queue import Queue

# cdktn-provider-aws 25.x is generated from hashicorp/aws 6.x; the stack uses no 6.x-only
# argument, so 5.100 (the version in the offline provider mirror) validates it too.
AWS_PROVIDER_CONSTRAINT = ">= 5.100.0, < 7.0.0"


class AwsStateStack(StateStack):
    def __init__(self, scope: Construct, settings: StackSettings, app: AppSource) -> None:
        super().__init__(scope, settings, app)
        settings = self.settings
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
        workflows = app.workflows if on.orchestrator else []
        machine_names = {str(w.name): state_machine_name(ctx, w) for w in workflows}
        workflow_urls = {
            url_variable(w): f"stepfunctions://{settings.region}/{ctx.account_id}/"
            f"{machine_names[str(w.name)]}"
            for w in workflows
        }

        self.urls = StateUrls(
            store=store_url,
            cache=self.cache.url() if self.cache else None,
            queue=self.queue.url(ctx) if self.queue else None,
            # The first workflow is the default; every one has its own variable.
            workflow=next(iter(workflow_urls.values()), None),
        )
        self.functions = Functions(
            self,
            "functions",
            ctx,
            app=app,
            functions=app.functions(settings, workflows_on=bool(workflows)),
            environment={
                **self.urls.environment(),
                **workflow_urls,
                **telemetry_environment(ctx),
                **sampling_environment(settings),
            },
            network=self.network,
            access=FunctionAccess(
                table_arn=self.database.arn if self.database else None,
                queue_arns=[self.queue.arn, self.queue.dlq_arn] if self.queue else None,
                secret_arn=self.cache.secret_arn if self.cache else None,
            ),
        )
        self.functions.trigger(ctx, self.queue.arn if self.queue else None)
        self.orchestrator = (
            Orchestrator(
                self,
                "orchestrator",
                ctx,
                workflows=workflows,
                activity_arn=self.functions.functions[app.app.activities].arn,
            )
            if workflows
            else None
        )
        if self.postgres:
            for function, function_role in self.functions.roles.items():
                self.postgres.grant_connect(ctx, function_role.name, f"connect-{function}")
        if self.orchestrator:
            # A second policy per role, after the state machines (modules/aws/functions.py).
            self.functions.grant_workflow(
                ctx,
                list(self.orchestrator.arns.values()),
                [ctx.arn("states", f"execution:{name}") for name in machine_names.values()],
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
        alerts = Alerts(self, "alerts", ctx, key_arn=alerts_key.arn)
        if self.queue:
            dead_letter_alarm(alerts, ctx, self.queue.dlq_name)
        for role, name in self.functions.names.items():
            function_error_alarm(alerts, ctx, role, name)
        if self.orchestrator:
            for name, arn in self.orchestrator.arns.items():
                workflow_failure_alarm(alerts, ctx, arn, name)
        StateDashboard(
            self,
            "dashboard",
            ctx,
            alert_topic_arn=alerts.arn,
            functions=list(self.functions.names.values()),
            queues=[self.queue.name] if self.queue else [],
            dead_letter_queues=[self.queue.dlq_name] if self.queue else [],
            state_machines=list(self.orchestrator.arns.values()) if self.orchestrator else [],
        )
        if on.budget:
            monthly_budget(self, ctx, alerts)
        self.publish_urls(self.urls)


def build(scope: Construct, settings: StackSettings, app: AppSource) -> TerraformStack:
    return AwsStateStack(scope, settings, app)
