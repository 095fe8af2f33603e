"""``state-gcp-<env>``: the statekit state stack on Google Cloud.

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

from modules.common.settings import StackSettings
from modules.common.stack import StateStack, StateUrls
from modules.gcp import policy
from modules.gcp.apis import enable_apis
from modules.gcp.cache import PASSWORD_VARIABLE, MemorystoreCache
from modules.gcp.context import GcpContext
from modules.gcp.database import FirestoreDatabaseComponent
from modules.gcp.functions import ACTIVITY, API, EVENTS, CloudFunctions, SecretVariable
from modules.gcp.kms import DataKey
from modules.gcp.memcached import MemorystoreMemcached
from modules.gcp.network import PrivateNetwork
from modules.gcp.observability import Observability
from modules.gcp.orchestrator import CloudWorkflow
from modules.gcp.postgres import CloudSqlPostgres
from modules.gcp.queue import PubsubQueue
from modules.gcp.service_agents import ServiceAgents

policy.register()


class GcpStateStack(StateStack):
    def __init__(self, scope: Construct, settings: StackSettings) -> None:
        super().__init__(scope, settings)
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
        postgres = settings.database.engine == "postgres"
        memcached = settings.cache.engine == "memcached"
        self.network = (
            PrivateNetwork(self, "network", ctx) if components.cache or postgres else None
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
            CloudWorkflow(self, "orchestrator", ctx, self.key) if components.orchestrator else None
        )
        self.functions = CloudFunctions(self, "functions", ctx, self.key)

        if self.postgres:
            self.postgres.grant_login(self.functions.identity.email)
        self.urls = StateUrls(
            store=self.postgres.url if self.postgres else self.database.url,  # type: ignore[union-attr]
            cache=self.cache.url if self.cache else self.memcached.url if self.memcached else None,
            queue=self.queue.url if self.queue else None,
            workflow=self.workflow.url if self.workflow else None,
        )
        member = self.functions.member
        environment = dict(self.urls.environment())
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

        specs = [API]
        if self.queue:
            specs.append(EVENTS)
        if self.workflow:
            specs.append(ACTIVITY)
        for spec in specs:
            self.functions.create(spec, environment, secrets, self.network)

        if self.database:
            self.database.grant_data_access(member)
        if self.queue:
            self.queue.subscribe(self.functions.uri(EVENTS.component))
            self.functions.allow_invoke(
                EVENTS.component, "push-invokes-events", self.queue.push_member
            )
            self.queue.grant_access(member)
            self.observability.dead_letter_alert(self.queue.dead_letter_name)
        if self.workflow:
            self.workflow.deploy(self.functions.uri(ACTIVITY.component))
            self.functions.allow_invoke(
                ACTIVITY.component, "workflow-invokes-activity", self.workflow.member
            )
            self.workflow.grant_start(member)
        self.observability.function_error_alert([ctx.naming.name(spec.component) for spec in specs])
        if components.budget:
            self.observability.budget(project.number)
        self.publish_urls(self.urls)


def build(scope: Construct, settings: StackSettings) -> TerraformStack:
    return GcpStateStack(scope, settings)
