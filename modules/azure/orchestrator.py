"""Durable Functions: the task hub inside the function app, and the workflow URL.

Durable Functions needs no resource of its own: each workflow of the App is an
orchestrator function in the app, named after the workflow (the kit's runtime
registers them, statekit/runtime/azure.py), and their state lives in the task hub,
in the host storage account. This construct names the hub (an app setting the host
reads instead of ``host.json``, so each environment gets its own hub) and publishes
``durable://HOST/ORCHESTRATOR?key_env=STATEKIT_DURABLE_KEY`` per workflow. The
management API's system key is copied by Terraform into Key Vault (on the apply with
``copy_durable_key = true``, once the code runs) and reaches the function as a Key
Vault reference, never as a value in the app settings.
"""

from __future__ import annotations

from typing import Any

from cdktn import Fn, ITerraformDependable, TerraformVariable, Token
from cdktn_provider_azurerm.data_azurerm_function_app_host_keys import (
    DataAzurermFunctionAppHostKeys,
)
from constructs import Construct

from ..common.workflow import url_variable
from . import roles
from .context import AzureContext
from .vault import Vault

KEY_SETTING = "STATEKIT_DURABLE_KEY"
KEY_SECRET = "durable-extension-key"
COPY_VARIABLE = "copy_durable_key"
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
        """Copy the app's Durable Task system key into the vault, once the key exists.

        The host creates the ``durabletask_extension`` system key when it first starts
        with the Durable extension loaded, which needs the code, and the code is published
        after the first apply (code_deploy.py). Reading the host keys of an app without
        code would fail or copy nothing, so the copy is off until the variable
        ``copy_durable_key`` is true: the second apply of ``after_first_apply``.
        """
        ctx = self.ctx
        enabled = TerraformVariable(
            self,
            COPY_VARIABLE,
            type="bool",
            default=False,
            nullable=False,
            description=(
                "Copy the Durable Functions system key into Key Vault: true once the code "
                "is deployed and the host has started (output after_first_apply)"
            ),
        )
        enabled.override_logical_id(COPY_VARIABLE)  # TF_VAR_copy_durable_key
        count = Token.as_number(Fn.conditional(enabled.boolean_value, 1, 0))
        keys = DataAzurermFunctionAppHostKeys(
            self,
            "host-keys",
            name=function_app_name,
            resource_group_name=ctx.resource_group_name,
            # Read at apply time, once the app exists (its name alone is known at plan time).
            depends_on=[function_app],
            count=count,
        )
        secret = self.vault.secret(
            "durable-key",
            name=KEY_SECRET,
            value=f"${{{keys.fqn}[0].durabletask_extension_key}}",
            content_type="durable-functions-system-key",
        )
        secret.count = count
        # Scoped to the one secret (by name: the secret is counted), after it exists.
        roles.grant(
            self,
            "durable-key-reader",
            role=roles.KEY_VAULT_SECRETS_USER,
            on=f"{self.vault.vault.id}/secrets/{KEY_SECRET}",
            principal_id=principal_id,
            count=count,
            depends_on=[secret],
        )
