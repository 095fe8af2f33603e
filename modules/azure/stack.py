"""``<app>-azure-<env>``: an App's stack on Azure.

Order matters only where Azure needs it: the vault and the private network come
first (every data service stores a secret or gets a private endpoint), then the
state services, then the function app that receives their URLs, then the grants
that name the app's identity, and last the alerts and budget.
"""

from __future__ import annotations

from cdktn import TerraformStack
from cdktn_provider_azurerm.data_azurerm_client_config import DataAzurermClientConfig
from cdktn_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures
from cdktn_provider_azurerm.resource_group import ResourceGroup
from constructs import Construct

from ..common.app import AppSource
from ..common.settings import StackSettings
from ..common.stack import StateStack, StateUrls
from ..common.tracing import sampling_environment
from . import policy
from .cache import RedisCacheComponent
from .context import AzureContext
from .dashboard import StateWorkbook
from .database import CosmosDatabase
from .functions import FunctionApp
from .memcached import refuse_memcached
from .network import PrivateNetwork
from .observability import Observability
from .orchestrator import DurableTaskHub
from .outputs import deployment_outputs
from .postgres import FlexiblePostgres
from .queue import StorageQueueComponent
from .vault import Vault

policy.register()


class AzureStateStack(StateStack):
    def __init__(self, scope: Construct, settings: StackSettings, app: AppSource) -> None:
        super().__init__(scope, settings, app)
        settings = self.settings
        AzurermProvider(
            self,
            "azurerm",
            features=[AzurermProviderFeatures()],
            # Shared keys are off on every storage account: data-plane calls use Entra ID.
            storage_use_azuread=True,
        )
        client = DataAzurermClientConfig(self, "client")
        group = ResourceGroup(self, "rg", name=self.naming.name("rg"), location=settings.region)
        ctx = AzureContext(
            scope=self,
            settings=settings,
            naming=self.naming,
            location=settings.region,
            resource_group_name=group.name,
            resource_group_id=group.id,
            tenant_id=client.tenant_id,
            deployer_object_id=client.object_id,
        )
        refuse_memcached(settings)
        components = settings.components
        self.observability = Observability(self, "observability", ctx)
        self.network = PrivateNetwork(self, "network", ctx) if ctx.private else None
        self.vault = Vault(self, "vault", ctx, self.network)
        postgres = settings.database.engine == "postgres"
        self.database = (
            None if postgres else CosmosDatabase(self, "database", ctx, self.vault, self.network)
        )
        self.cache = (
            RedisCacheComponent(self, "cache", ctx, self.network) if components.cache else None
        )
        self.queue = (
            StorageQueueComponent(self, "queue", ctx, self.vault, self.network)
            if components.queue
            else None
        )
        self.functions = FunctionApp(self, "functions", ctx, self.vault, self.network)
        self.postgres = (
            FlexiblePostgres(self, "postgres", ctx, self.network, self.functions.name)
            if postgres
            else None
        )
        workflows = app.workflows if components.orchestrator else []
        self.orchestrator = (
            DurableTaskHub(
                self, "orchestrator", ctx, self.vault, self.functions.host, workflows=workflows
            )
            if workflows
            else None
        )
        declared = app.functions(settings, workflows_on=bool(workflows))
        if any(function.kind == "queue" for function in declared) and not self.queue:
            raise ValueError(
                f"{settings.stack_name}: the App has a queue consumer but the environment "
                "switches the queue off ([components] queue = false)"
            )
        self.urls = StateUrls(
            store=self.postgres.url if self.postgres else self.database.url,  # type: ignore[union-attr]
            cache=self.cache.url if self.cache else None,
            queue=self.queue.url if self.queue else None,
            workflow=self.orchestrator.url if self.orchestrator else None,
        )
        app_settings = {
            **self.urls.environment(),
            **self.observability.app_settings(),
            **sampling_environment(settings),
        }
        if self.orchestrator:
            app_settings.update(self.orchestrator.urls())
        for component in (self.queue, self.orchestrator):
            if component is not None:
                app_settings.update(component.app_settings())
        function_app = self.functions.create(
            app_settings,
            self.observability.insights.connection_string,
            app,
            declared,
            # The cache's identity: its token signs in to Redis (the URL names it).
            identities=[self.cache.identity.id] if self.cache else [],
        )
        principal = self.functions.principal_id
        self.functions.grant_declared()
        if self.database:
            self.database.grant_data_access(principal)
        if self.postgres:
            self.postgres.grant_login(principal)
        self.observability.grant_telemetry(principal)
        self.observability.storage_diagnostics(
            "host-storage", self.functions.host_storage.id, ("blob", "queue", "table")
        )
        if self.queue:
            self.queue.grant_access(principal)
            self.observability.storage_diagnostics(
                "queue-storage", self.queue.account.id, ("queue",)
            )
            self.observability.poison_queue_alert(self.queue.poison_queue_name)
        if self.orchestrator:
            self.orchestrator.store_key(self.functions.name, function_app, principal)
        self.observability.function_error_alert()
        # The state dashboard and its alerts (modules/common/dashboard.py, issue 17); the poison
        # queue's own alert above stays: it fires on the queue's depth, this one on the log line.
        StateWorkbook(
            self,
            "dashboard",
            ctx,
            insights_id=self.observability.insights.id,
            action_group_id=self.observability.action_group.id,
            function_apps=[self.functions.name],
            poison_queues=[self.queue.poison_queue_name] if self.queue else [],
            workflows=[str(w.name) for w in workflows],
            queue_account_id=self.queue.account.id if self.queue else None,
        )
        if components.budget:
            self.observability.budget()
        self.publish_urls(self.urls)
        deployment_outputs(
            self, settings.env, group.name, self.functions.name, self.orchestrator is not None
        )


def build(scope: Construct, settings: StackSettings, app: AppSource) -> TerraformStack:
    return AzureStateStack(scope, settings, app)
