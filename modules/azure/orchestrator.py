"""Durable Functions: the task hub inside the function app, and the workflow URL.

Durable Functions needs no resource of its own: the orchestrator is a function in
the app (``handlers/azure.py`` registers the project's one workflow definition as
an orchestrator named after it) and its state lives in the task hub, in the host
storage account. This construct names the hub (an app setting the host reads
instead of ``host.json``, so each environment gets its own hub) and publishes
``durable://HOST/ORCHESTRATOR?key_env=STATEKIT_DURABLE_KEY``. The management API's
system key is copied by Terraform into Key Vault and reaches the function as a Key
Vault reference, never as a value in the app settings.
"""

from __future__ import annotations

from cdktn import ITerraformDependable
from cdktn_provider_azurerm.data_azurerm_function_app_host_keys import (
    DataAzurermFunctionAppHostKeys,
)
from constructs import Construct

from .context import AzureContext
from .vault import Vault

KEY_SETTING = "STATEKIT_DURABLE_KEY"
KEY_SECRET = "durable-extension-key"
HUB_SETTING = "AzureFunctionsJobHost__extensions__durableTask__hubName"
# The orchestrator function ``handlers/azure.py`` registers for the project's one
# workflow definition (tests/iac/test_azure_stack.py checks the two agree).
ORCHESTRATOR_FUNCTION = "order_saga"


class DurableTaskHub(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, ctx: AzureContext, vault: Vault, app_host: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        self.vault = vault
        self.app_host = app_host
        self.orchestrator = ORCHESTRATOR_FUNCTION
        # Letters and digits only, 3-45 characters (task hub naming rule).
        self.hub_name = ctx.naming.pascal("hub")[:45]

    @property
    def url(self) -> str:
        return f"durable://{self.app_host}/{self.orchestrator}?key_env={KEY_SETTING}"

    def app_settings(self) -> dict[str, str]:
        return {HUB_SETTING: self.hub_name, KEY_SETTING: self.vault.reference(KEY_SECRET)}

    def store_key(
        self, function_app_name: str, function_app: ITerraformDependable, principal_id: str
    ) -> None:
        """After the app exists, copy its Durable Task system key into the vault for the app."""
        keys = DataAzurermFunctionAppHostKeys(
            self,
            "host-keys",
            name=function_app_name,
            resource_group_name=self.ctx.resource_group_name,
            # Read at apply time, once the app exists (its name alone is known at plan time).
            depends_on=[function_app],
        )
        secret = self.vault.secret(
            "durable-key",
            name=KEY_SECRET,
            value=keys.durabletask_extension_key,
            content_type="durable-functions-system-key",
        )
        self.vault.grant_secret_read("durable-key-reader", secret, principal_id)
