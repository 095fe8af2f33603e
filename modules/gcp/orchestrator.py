"""Cloud Workflows: the project's one workflow definition, rendered as Workflows YAML.

The YAML comes from ``statekit.workflows.render_cloud_workflows_yaml`` over
``handlers.saga.ORDER_SAGA`` (through ``modules.common.workflow``), with every step
calling the activity function with an OIDC token of the workflow's own service
account, which may invoke only that function and write its logs. Call logging
follows ``orchestrator.log_level``; CMEK and deletion protection follow settings.
"""

from __future__ import annotations

from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.workflows_workflow import WorkflowsWorkflow
from constructs import Construct

from ..common.workflow import cloud_workflows_yaml, workflow_name
from .context import GcpContext
from .kms import DataKey

WORKFLOWS_AGENT = "gcp-sa-workflows.iam.gserviceaccount.com"
CALL_LOG_LEVELS = {
    "ALL": "LOG_ALL_CALLS",
    "ERROR": "LOG_ERRORS_ONLY",
    "FATAL": "LOG_ERRORS_ONLY",
    "OFF": "LOG_NONE",
}
URL_PLACEHOLDER = "https://statekit-activity.invalid/"


class WorkflowRenderingUnavailable(RuntimeError):
    """statekit.workflows (the renderer) or handlers.saga is missing: no definition to deploy."""


def terraform_escaped(text: str) -> str:
    """Workflows' own ``${...}`` expressions, escaped so Terraform leaves them alone."""
    return text.replace("${", "$${")


def workflow_source(activity_url: str) -> str:
    """The rendered YAML, Terraform-escaped, with ``activity_url`` (a reference) for each call."""
    rendered = cloud_workflows_yaml(URL_PLACEHOLDER)
    if rendered is None:
        raise WorkflowRenderingUnavailable(
            "modules/gcp/orchestrator.py: statekit.workflows.render_cloud_workflows_yaml or "
            "handlers.saga.ORDER_SAGA is not importable; the GCP stack needs the renderer"
        )
    return terraform_escaped(rendered).replace(URL_PLACEHOLDER, activity_url)


class CloudWorkflow(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, ctx: GcpContext, key: DataKey | None
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        self.key = key
        self.name = ctx.naming.name(workflow_name().replace("_", "-"))
        self.identity = ServiceAccount(
            self,
            "identity",
            account_id=ctx.naming.name("workflow", 30),
            display_name="statekit workflow (invokes the activity function)",
            project=ctx.project,
            depends_on=ctx.apis,
        )
        ProjectIamMember(
            self,
            "log-writer",
            project=ctx.project,
            role="roles/logging.logWriter",
            member=self.member,
        )

    @property
    def member(self) -> str:
        return f"serviceAccount:{self.identity.email}"

    @property
    def url(self) -> str:
        """``workflows://PROJECT/LOCATION/WORKFLOW`` (docs/urls.md)."""
        return f"workflows://{self.ctx.project}/{self.ctx.region}/{self.name}"

    def deploy(self, activity_url: str) -> WorkflowsWorkflow:
        ctx = self.ctx
        settings = ctx.settings
        grants = (
            [self.key.allow("workflows", ctx.service_agent(WORKFLOWS_AGENT))] if self.key else []
        )
        self.workflow = WorkflowsWorkflow(
            self,
            "workflow",
            name=self.name,
            project=ctx.project,
            region=ctx.region,
            description="statekit order saga (rendered from handlers.saga.ORDER_SAGA)",
            service_account=self.identity.id,
            source_contents=workflow_source(activity_url),
            call_log_level=CALL_LOG_LEVELS[settings.orchestrator.log_level],
            crypto_key_name=self.key.id if self.key else None,
            deletion_protection=settings.database.deletion_protection,
            depends_on=[*ctx.apis, *grants],
        )
        return self.workflow

    def grant_start(self, member: str) -> ProjectIamMember:
        """Start executions and read their results. Workflows has no per-workflow IAM, so
        ``roles/workflows.invoker`` is granted on the project (it allows nothing else)."""
        return ProjectIamMember(
            self,
            "function-invoker",
            project=self.ctx.project,
            role="roles/workflows.invoker",
            member=member,
        )
