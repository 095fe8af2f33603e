"""``state-azure-<env>``: the statekit state stack on Azure.

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

from modules.azure import policy
from modules.azure.cache import RedisCacheComponent
from modules.azure.context import AzureContext
from modules.azure.database import CosmosDatabase
from modules.azure.functions import FunctionApp
from modules.azure.memcached import refuse_memcached
from modules.azure.network import PrivateNetwork
from modules.azure.observability import Observability
from modules.azure.orchestrator import DurableTaskHub
from modules.azure.outputs import deployment_outputs
from modules.azure.postgres import FlexiblePostgres
from modules.azure.queue import StorageQueueComponent
from modules.azure.vault import Vault
from modules.common.settings import StackSettings
from modules.common.stack import StateStack, StateUrls

policy.register()


class AzureStateStack(StateStack):
    def __init__(self, scope: Construct, settings: StackSettings) -> None:
        super().__init__(scope, settings)
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
            RedisCacheComponent(self, "cache", ctx, self.vault, self.network)
            if components.cache
            else None
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
        self.orchestrator = (
            DurableTaskHub(self, "orchestrator", ctx, self.vault, self.functions.host)
            if components.orchestrator
            else None
        )
        self.urls = StateUrls(
            store=self.postgres.url if self.postgres else self.database.url,  # type: ignore[union-attr]
            cache=self.cache.url if self.cache else None,
            queue=self.queue.url if self.queue else None,
            workflow=self.orchestrator.url if self.orchestrator else None,
        )
        app_settings = {**self.urls.environment(), **self.observability.app_settings()}
        for component in (self.cache, self.queue, self.orchestrator):
            if component is not None:
                app_settings.update(component.app_settings())
        app = self.functions.create(app_settings, self.observability.insights.connection_string)
        principal = self.functions.principal_id
        if self.database:
            self.database.grant_data_access(principal)
        if self.postgres:
            self.postgres.grant_login(principal)
        self.observability.grant_telemetry(principal)
        if self.cache:
            self.cache.grant_access(principal)
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
            self.orchestrator.store_key(self.functions.name, app, principal)
        self.observability.function_error_alert()
        if components.budget:
            self.observability.budget()
        self.publish_urls(self.urls)
        deployment_outputs(
            self, settings.env, group.name, self.functions.name, components.orchestrator
        )


def build(scope: Construct, settings: StackSettings) -> TerraformStack:
    return AzureStateStack(scope, settings)
