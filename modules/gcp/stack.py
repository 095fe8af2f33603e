"""``<app>-gcp-<env>``: an App's stack on Google Cloud.

Order: the APIs, the service agents the stack grants roles to (created, not assumed)
and (with customer-managed encryption) the key first, then the
state services, then the functions that receive their URLs, then what needs a
function's URL (the push subscription, the workflow), the grants to the
functions' identity, and last the alerts and the budget.
"""

from __future__ import annotations

from dataclasses import replace

from cdktn import TerraformStack
from cdktn_provider_google.data_google_project import DataGoogleProject
from cdktn_provider_google.provider import GoogleProvider
from constructs import Construct

from ..common.app import AppSource
from ..common.settings import StackSettings
from ..common.stack import StateStack, StateUrls
from ..common.tracing import sampling_environment
from . import policy
from .apis import enable_apis
from .cache import PASSWORD_VARIABLE, MemorystoreCache
from .context import GcpContext
from .dashboard import StateDashboard
from .database import FirestoreDatabaseComponent
from .functions import CloudFunctions, SecretVariable
from .kms import DataKey
from .memcached import MemorystoreMemcached
from .network import PrivateNetwork
from .observability import Observability
from .orchestrator import CloudWorkflow
from .postgres import CloudSqlPostgres
from .queue import PubsubQueue
from .service_agents import ServiceAgents
from .triggers import Schedules

policy.register()


class GcpStateStack(StateStack):
    def __init__(self, scope: Construct, settings: StackSettings, app: AppSource) -> None:
        super().__init__(scope, settings, app)
        settings = self.settings
        GoogleProvider(
            self,
            "google",
            project=settings.project,
            region=settings.region,
            # Billing Budgets (and other client-quota APIs) bill their calls to this project,
            # so applying with user credentials works without a separate quota project.
            user_project_override=True,
            billing_project=settings.project,
        )
        project = DataGoogleProject(self, "project", project_id=settings.project)
        ctx = GcpContext(
            scope=self,
            settings=settings,
            naming=self.naming,
            project=settings.project,
            region=settings.region,
            project_number=project.number,
        )
        ctx.apis.extend(enable_apis(self, settings))
        ctx = replace(ctx, agents=ServiceAgents(self, "service-agents", ctx))
        components = settings.components
        self.key = DataKey(self, "kms", ctx) if settings.database.customer_managed_key else None
        self.observability = Observability(self, "observability", ctx)
        workflows = app.workflows if components.orchestrator else []
        declared = app.functions(settings, workflows_on=bool(workflows))
        postgres = settings.database.engine == "postgres"
        memcached = settings.cache.engine == "memcached"
        self.network = (
            PrivateNetwork(self, "network", ctx, function_count=len(declared))
            if components.cache or postgres
            else None
        )
        self.postgres = (
            CloudSqlPostgres(self, "postgres", ctx, self.network, self.key)
            if postgres and self.network
            else None
        )
        self.database = (
            None if postgres else FirestoreDatabaseComponent(self, "database", ctx, self.key)
        )
        self.memcached = (
            MemorystoreMemcached(self, "cache", ctx, self.network)
            if components.cache and memcached and self.network
            else None
        )
        self.cache = (
            MemorystoreCache(self, "cache", ctx, self.network, self.key)
            if components.cache and not memcached and self.network
            else None
        )
        self.queue = PubsubQueue(self, "queue", ctx, self.key) if components.queue else None
        self.workflow = (
            CloudWorkflow(self, "orchestrator", ctx, self.key, workflows) if workflows else None
        )
        self.functions = CloudFunctions(self, "functions", ctx, self.key, app)
        if self.postgres:
            self.postgres.grant_login(self.functions.identity.email)
        consumers = [function for function in declared if function.kind == "queue"]
        if consumers and not self.queue:
            raise ValueError(
                f"{settings.stack_name}: the App has a queue consumer but the environment "
                "switches the queue off ([components] queue = false)"
            )

        self.urls = StateUrls(
            store=self.postgres.url if self.postgres else self.database.url,  # type: ignore[union-attr]
            cache=self.cache.url if self.cache else self.memcached.url if self.memcached else None,
            queue=self.queue.url if self.queue else None,
            workflow=self.workflow.url if self.workflow else None,
        )
        member = self.functions.member
        environment = {**self.urls.environment(), **sampling_environment(settings)}
        if self.workflow:
            environment.update(self.workflow.urls())
        secrets: list[SecretVariable] = []
        if self.cache:
            environment.update(self.cache.environment())
            reader = self.cache.grant_access(member)
            secrets.append(
                SecretVariable(
                    PASSWORD_VARIABLE,
                    self.cache.password.secret_id,
                    (self.cache.password.version, reader),
                )
            )

        for function in declared:
            self.functions.create(function, environment, secrets, self.network)

        if self.database:
            self.database.grant_data_access(member)
        if self.queue:
            # One queue, at most one consumer (AppSource.load checks it).
            self.queue.subscribe(self.functions.uri(consumers[0].name) if consumers else None)
            for consumer in consumers:
                self.functions.allow_invoke(
                    consumer.name, f"push-invokes-{consumer.name}", self.queue.push_member
                )
            self.queue.grant_access(member)
            self.observability.dead_letter_alert(self.queue.dead_letter_name)
        schedules = [function for function in declared if function.kind == "schedule"]
        if schedules:
            self.schedules = Schedules(self, "schedules", ctx, self.functions, schedules)
        if self.workflow:
            activities = app.app.activities
            self.workflow.deploy(self.functions.uri(activities))
            self.functions.allow_invoke(
                activities, "workflow-invokes-activity", self.workflow.member
            )
            self.workflow.grant_start(member)
        self.observability.function_error_alert(
            [ctx.naming.name(function.name) for function in declared]
        )
        StateDashboard(
            self,
            "dashboard",
            ctx,
            notification_channels=self.observability.channels,
            functions=[ctx.naming.name(function.name) for function in declared],
            subscriptions=[self.queue.subscription.name] if self.queue else [],
            dead_letter_subscriptions=[self.queue.dead_letter_subscription.name]
            if self.queue
            else [],
            workflows=list(self.workflow.names.values()) if self.workflow else [],
        )
        if components.budget:
            self.observability.budget(project.number)
        self.publish_urls(self.urls)


def build(scope: Construct, settings: StackSettings, app: AppSource) -> TerraformStack:
    return GcpStateStack(scope, settings, app)
