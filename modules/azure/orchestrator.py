"""Durable Functions: the task hub inside the function app, and the workflow URL.

Durable Functions needs no resource of its own: each workflow of the App is an
orchestrator function in the app, named after the workflow (the kit's runtime
registers them, statekit/runtime/azure.py), and their state lives in the task hub,
in the host storage account. This construct names the hub (an app setting the host
reads instead of ``host.json``, so each environment gets its own hub) and publishes
``durable://HOST/ORCHESTRATOR?key_env=STATEKIT_DURABLE_KEY`` per workflow. The management API's
system key is copied by Terraform into Key Vault and reaches the function as a Key
Vault reference, never as a value in the app settings.
"""

from __future__ import annotations

from typing import Any

from cdktn import ITerraformDependable
from cdktn_provider_azurerm.data_azurerm_function_app_host_keys import (
    DataAzurermFunctionAppHostKeys,
)
from constructs import Construct

from ..common.workflow import url_variable
from .context import AzureContext
from .vault import Vault

KEY_SETTING = "STATEKIT_DURABLE_KEY"
KEY_SECRET = "durable-extension-key"
HUB_SETTING = "AzureFunctionsJobHost__extensions__durableTask__hubName"


class DurableTaskHub(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: AzureContext,
        vault: Vault,
        app_host: str,
        *,
        workflows: list[Any],
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        self.vault = vault
        self.app_host = app_host
        # The runtime names each orchestrator function after its workflow.
        self.orchestrators = [str(workflow.name) for workflow in workflows]
        self.workflows = workflows
        # Letters and digits only, 3-45 characters (task hub naming rule).
        self.hub_name = ctx.naming.pascal("hub")[:45]

    def url_of(self, orchestrator: str) -> str:
        return f"durable://{self.app_host}/{orchestrator}?key_env={KEY_SETTING}"

    @property
    def url(self) -> str:
        """The first workflow's: the default ``STATEKIT_WORKFLOW_URL``."""
        return self.url_of(self.orchestrators[0])

    def urls(self) -> dict[str, str]:
        """``STATEKIT_WORKFLOW_URL_<NAME>`` of every workflow."""
        return {url_variable(w): self.url_of(str(w.name)) for w in self.workflows}

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
