"""The Linux Function App on the Flex Consumption plan, with a system-assigned identity.

- Python runtime from settings; the package is the App's code packages and
  statekit with a ``function_app.py`` whose runtime registers every function of the
  App (HTTP, queue and timer triggers, the Durable orchestrators and the activity
  function; see package.py). Terraform creates the app without code: Flex
  Consumption has no zip deploy, so ``code_deploy.py`` publishes the package with its
  dependencies after apply. One app hosts them all, so its instance memory is the
  largest a function declares and its identity holds the union of what they declare
  in ``permissions`` (``PERMISSION_ROLES``).
- In production the HTTP API requires an Entra ID token (api_auth.py).
- Host storage (``AzureWebJobsStorage``, the Durable task hub, the deployment
  container) is its own storage account with shared keys off. The host reaches it
  with a user-assigned "host" identity whose roles (Blob Data Owner, Queue and
  Table Data Contributor on that account only) exist before the app is created, so
  the first zip deploy does not race role propagation. The app's system-assigned
  identity is the one the code uses for the state services, except Redis: a
  user-assigned *cache* identity (cache.py) that the cache URL names.
- App settings: the four ``STATEKIT_*_URL`` values plus the settings each
  component asks for (Key Vault references for secrets, never their values).
- Outbound traffic through the VNet when the stack is private.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktn_provider_azurerm.function_app_flex_consumption import (
    FunctionAppFlexConsumption,
    FunctionAppFlexConsumptionIdentity,
    FunctionAppFlexConsumptionSiteConfig,
)
from cdktn_provider_azurerm.service_plan import ServicePlan
from cdktn_provider_azurerm.storage_container import StorageContainer
from cdktn_provider_azurerm.user_assigned_identity import UserAssignedIdentity
from constructs import Construct

from statekit.app import APP_VARIABLE, FUNCTION_VARIABLE

from ..common.app import AppSource, DeployedFunction
from . import roles
from .api_auth import api_authentication
from .context import AzureContext
from .network import PrivateNetwork
from .package import function_package
from .storage import encryption_of, secure_storage_account
from .vault import Vault

# The portable permission names of statekit.app, as built-in roles on the resource group
# (where the team's Communication Services resource lives).
PERMISSION_ROLES = {"send_email": "Communication and Email Service Owner"}
ALL_FUNCTIONS = "*"  # STATEKIT_FUNCTION: one Function App registers every function

DEPLOYMENT_CONTAINER = "deployments"
FLEX_MEMORY_SIZES = (512, 2048, 4096)


def flex_memory(memory_mb: int) -> int:
    """The smallest Flex Consumption instance size that holds ``memory_mb``."""
    return next((size for size in FLEX_MEMORY_SIZES if size >= memory_mb), FLEX_MEMORY_SIZES[-1])


class FunctionApp(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: AzureContext,
        vault: Vault,
        network: PrivateNetwork | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        self.name = ctx.naming.unique("func", 60)
        self.host_storage = secure_storage_account(
            self, "host-storage", ctx, "host", encryption_of(vault)
        )
        if network is not None:
            for subresource in ("blob", "queue", "table"):
                network.connect("host", self.host_storage.id, subresource)
        self.network = network
        self.deployments = StorageContainer(
            self,
            "deployments",
            name=DEPLOYMENT_CONTAINER,
            storage_account_id=self.host_storage.id,
            container_access_type="private",
        )
        self.host_identity = UserAssignedIdentity(
            self,
            "host-identity",
            name=ctx.naming.name("func-host"),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
        )
        self.host_grants = [
            roles.grant(
                self,
                construct_id,
                role=role,
                on=self.host_storage.id,
                principal_id=self.host_identity.principal_id,
            )
            for construct_id, role in (
                ("host-blob", roles.STORAGE_BLOB_DATA_OWNER),
                ("host-queue", roles.STORAGE_QUEUE_DATA_CONTRIBUTOR),
                ("host-table", roles.STORAGE_TABLE_DATA_CONTRIBUTOR),
            )
        ]
        self.plan = ServicePlan(
            self,
            "plan",
            name=ctx.naming.name("plan"),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
            os_type="Linux",
            sku_name="FC1",
            # No zone_balancing_enabled: azurerm accepts it only on Premium tiers, and FC1's
            # zone redundancy (the plan's zoneRedundant) is not exposed for Flex here.
        )

    @property
    def host(self) -> str:
        """The app's host name, known before the app exists (its own settings can name it)."""
        return f"{self.name}.azurewebsites.net"

    def create(
        self,
        app_settings: Mapping[str, str],
        insights_connection_string: str,
        app: AppSource,
        declared: list[DeployedFunction],
        identities: Sequence[str] = (),
    ) -> FunctionAppFlexConsumption:
        """The app; ``identities``: more user-assigned identities it carries (their ids)."""
        ctx = self.ctx
        functions = ctx.settings.functions
        self.declared = declared
        # Staged for code_deploy.py, which publishes it after apply (no zip deploy on Flex).
        function_package(ctx.settings, app, declared)
        memory = max((function.memory_mb for function in declared), default=functions.memory_mb)
        self.app = FunctionAppFlexConsumption(
            self,
            "app",
            name=self.name,
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
            service_plan_id=self.plan.id,
            runtime_name="python",
            runtime_version=functions.runtime.removeprefix("python"),
            instance_memory_in_mb=flex_memory(memory),
            maximum_instance_count=100,
            storage_container_type="blobContainer",
            storage_container_endpoint=f"{self.host_storage.primary_blob_endpoint}{DEPLOYMENT_CONTAINER}",
            storage_authentication_type="UserAssignedIdentity",
            storage_user_assigned_identity_id=self.host_identity.id,
            identity=FunctionAppFlexConsumptionIdentity(
                type="SystemAssigned, UserAssigned",
                identity_ids=[self.host_identity.id, *identities],
            ),
            https_only=True,
            client_certificate_mode="Optional",
            webdeploy_publish_basic_authentication_enabled=False,
            virtual_network_subnet_id=self.network.function_subnet.id if self.network else None,
            site_config=FunctionAppFlexConsumptionSiteConfig(
                minimum_tls_version="1.2",
                scm_minimum_tls_version="1.2",
                application_insights_connection_string=insights_connection_string,
            ),
            app_settings={
                # Identity-based host storage (the host identity): no connection string, no key.
                "AzureWebJobsStorage__accountName": self.host_storage.name,
                "AzureWebJobsStorage__credential": "managedidentity",
                "AzureWebJobsStorage__clientId": self.host_identity.client_id,
                APP_VARIABLE: app.ref,
                FUNCTION_VARIABLE: ALL_FUNCTIONS,
                **app_settings,
            },
            auth_settings_v2=api_authentication(self, ctx),
            depends_on=[self.deployments, *self.host_grants],
        )
        return self.app

    @property
    def principal_id(self) -> str:
        return self.app.identity.principal_id

    def grant_declared(self) -> None:
        """The roles for what the functions declare in ``permissions``, on the app's identity."""
        wanted = sorted({p for function in self.declared for p in function.permissions})
        for permission in wanted:
            if permission not in PERMISSION_ROLES:
                raise ValueError(
                    f"permission {permission!r} has no Azure mapping "
                    f"(known: {', '.join(sorted(PERMISSION_ROLES))})"
                )
            roles.grant(
                self,
                f"declared-{permission.replace('_', '-')}",
                role=PERMISSION_ROLES[permission],
                on=self.ctx.resource_group_id,
                principal_id=self.principal_id,
            )
