"""What an operator needs after ``terraform apply``: the names ``code_deploy.py`` takes,
and the steps the platform forces after the first apply (docs/iac-azure-gcp.md)."""

from __future__ import annotations

from cdktn import TerraformOutput
from constructs import Construct

CODE_DEPLOY = (
    "deploy the code: python -m modules.azure.code_deploy {env} "
    "--resource-group <resource_group_name> --name <function_app_name> "
    "(One Deploy of a package carrying its Linux dependencies, then a restart)"
)
DURABLE_SECOND_PASS = (
    "then terraform apply -var copy_durable_key=true: the Durable Functions system key "
    "(durabletask_extension) is created by the host when it first starts with the Durable "
    "extension loaded, i.e. after the code is deployed, so only this second apply can "
    "copy it into Key Vault"
)
RESTART = (
    "then az functionapp restart --resource-group <resource_group_name> --name "
    "<function_app_name>, so the app resolves the new secret's Key Vault reference"
)


def after_apply_steps(env: str, orchestrator: bool) -> str:
    steps = [CODE_DEPLOY.format(env=env)]
    if orchestrator:
        steps += [DURABLE_SECOND_PASS, RESTART]
    return "; ".join(f"{index}. {step}" for index, step in enumerate(steps, start=1))


def deployment_outputs(
    scope: Construct, env: str, resource_group_name: str, app_name: str, orchestrator: bool
) -> None:
    TerraformOutput(
        scope,
        "resource_group_name",
        value=resource_group_name,
        description="The stack's resource group (code_deploy.py --resource-group)",
    )
    TerraformOutput(
        scope,
        "function_app_name",
        value=app_name,
        description="The function app (code_deploy.py --name)",
    )
    TerraformOutput(
        scope,
        "after_first_apply",
        value=after_apply_steps(env, orchestrator),
        description="What the platform forces after the first apply, in order",
    )
