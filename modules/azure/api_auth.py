"""Identity on the function app's HTTP entry points: App Service authentication (Easy Auth).

The HTTP function itself is anonymous at the Functions level (``handlers/azure.py``); in
production the platform in front of it accepts only requests with a Microsoft Entra ID
token issued for the API's app registration, and answers 401 to anything else, the
way AWS (IAM-signed Function URL) and GCP (IAM-authenticated Cloud Run) do.

An Entra app registration is a directory object, not an Azure resource (azurerm cannot
create one), so its application (client) ID is the Terraform variable
``api_client_id`` (``TF_VAR_api_client_id``), required at plan time in production;
docs/iac-azure-gcp.md shows how to create it. Callers get a token with
``az account get-access-token --resource api://<client id>`` or from their own
managed identity.

The Durable Functions HTTP API (``/runtime/webhooks/durabletask``) is excluded: the
function app calls it itself (statekit's ``durable://`` client) with the extension's
system key, which the host checks; Easy Auth would reject those calls, which carry
no Entra token.
"""

from __future__ import annotations

from cdktn import TerraformVariable
from cdktn_provider_azurerm.function_app_flex_consumption import (
    FunctionAppFlexConsumptionAuthSettingsV2,
    FunctionAppFlexConsumptionAuthSettingsV2ActiveDirectoryV2,
    FunctionAppFlexConsumptionAuthSettingsV2Login,
)
from constructs import Construct

from .context import AzureContext

CLIENT_ID_VARIABLE = "api_client_id"
DURABLE_WEBHOOKS = "/runtime/webhooks/durabletask"


def api_authentication(
    scope: Construct, ctx: AzureContext
) -> FunctionAppFlexConsumptionAuthSettingsV2 | None:
    """Easy Auth requiring an Entra token in production; None (no platform auth) elsewhere."""
    if not ctx.settings.production:
        return None
    client_id = TerraformVariable(
        scope,
        CLIENT_ID_VARIABLE,
        type="string",
        nullable=False,
        description=(
            "Application (client) ID of the Entra app registration whose tokens the HTTP "
            "API accepts (docs/iac-azure-gcp.md, 'The HTTP API requires an Entra token')"
        ),
    )
    client_id.override_logical_id(CLIENT_ID_VARIABLE)  # TF_VAR_api_client_id
    return FunctionAppFlexConsumptionAuthSettingsV2(
        auth_enabled=True,
        require_authentication=True,
        unauthenticated_action="Return401",
        default_provider="azureactivedirectory",
        require_https=True,
        excluded_paths=[DURABLE_WEBHOOKS],
        active_directory_v2=FunctionAppFlexConsumptionAuthSettingsV2ActiveDirectoryV2(
            client_id=client_id.string_value,
            tenant_auth_endpoint=f"https://login.microsoftonline.com/{ctx.tenant_id}/v2.0",
            allowed_audiences=[f"api://{client_id.string_value}"],
        ),
        # An API, not a browser app: no token store, no login redirects.
        login=FunctionAppFlexConsumptionAuthSettingsV2Login(token_store_enabled=False),
    )
