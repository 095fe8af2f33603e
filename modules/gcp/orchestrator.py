"""Cloud Workflows: one workflow per workflow of the App, rendered as Workflows YAML.

The YAML comes from ``statekit.workflows.render_cloud_workflows_yaml`` (through
``common/workflow.py``), with every step calling the activity function with an OIDC
token of the workflows' own service account, which may invoke only that function
and write its logs. Call logging
follows ``orchestrator.log_level``; CMEK and deletion protection follow settings.
"""

from __future__ import annotations

from typing import Any

from cdktn_provider_google.project_iam_member import ProjectIamMember, ProjectIamMemberCondition
from cdktn_provider_google.service_account import ServiceAccount
from cdktn_provider_google.tags_location_tag_binding import TagsLocationTagBinding
from cdktn_provider_google.tags_tag_key import TagsTagKey
from cdktn_provider_google.tags_tag_value import TagsTagValue
from cdktn_provider_google.workflows_workflow import WorkflowsWorkflow
from constructs import Construct

from ..common.workflow import cloud_workflows_yaml, resource_name, url_variable
from .context import GcpContext
from .kms import DataKey

WORKFLOWS_AGENT = "gcp-sa-workflows.iam.gserviceaccount.com"
CALL_LOG_LEVELS = {
    "ALL": "LOG_ALL_CALLS",
    "ERROR": "LOG_ERRORS_ONLY",
    "FATAL": "LOG_ERRORS_ONLY",
    "OFF": "LOG_NONE",
}
URL_PLACEHOLDER = "https://activity.invalid/"


def terraform_escaped(text: str) -> str:
    """Workflows' own ``${...}`` expressions, escaped so Terraform leaves them alone."""
    return text.replace("${", "$${")


def workflow_source(workflow: Any, activity_url: str) -> str:
    """The rendered YAML, Terraform-escaped, with ``activity_url`` (a reference) for each call."""
    rendered = cloud_workflows_yaml(workflow, URL_PLACEHOLDER)
    return terraform_escaped(rendered).replace(URL_PLACEHOLDER, activity_url)


class CloudWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: GcpContext,
        key: DataKey | None,
        workflows: list[Any],
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        self.key = key
        self.definitions = workflows
        self.names = {str(w.name): ctx.naming.name(resource_name(w)) for w in workflows}
        self.identity = ServiceAccount(
            self,
            "identity",
            account_id=ctx.naming.name("workflow", 30),
            display_name=f"{ctx.naming.app} workflows (invoke the activity function)",
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

    def url_of(self, workflow_name: str) -> str:
        """``workflows://PROJECT/LOCATION/WORKFLOW`` (docs/urls.md)."""
        return f"workflows://{self.ctx.project}/{self.ctx.region}/{self.names[workflow_name]}"

    @property
    def url(self) -> str:
        """The first workflow's: the default ``STATEKIT_WORKFLOW_URL``."""
        return self.url_of(next(iter(self.names)))

    def urls(self) -> dict[str, str]:
        """``STATEKIT_WORKFLOW_URL_<NAME>`` of every workflow."""
        return {url_variable(w): self.url_of(str(w.name)) for w in self.definitions}

    def deploy(self, activity_url: str) -> dict[str, WorkflowsWorkflow]:
        ctx = self.ctx
        settings = ctx.settings
        grants = (
            [self.key.allow("workflows", ctx.service_agent(WORKFLOWS_AGENT))] if self.key else []
        )
        self.workflows: dict[str, WorkflowsWorkflow] = {}
        for workflow in self.definitions:
            name = str(workflow.name)
            self.workflows[name] = WorkflowsWorkflow(
                self,
                resource_name(workflow),
                name=self.names[name],
                project=ctx.project,
                region=ctx.region,
                description=f"{ctx.naming.app} workflow {name}",
                service_account=self.identity.id,
                source_contents=workflow_source(workflow, activity_url),
                call_log_level=CALL_LOG_LEVELS[settings.orchestrator.log_level],
                crypto_key_name=self.key.id if self.key else None,
                deletion_protection=settings.database.deletion_protection,
                depends_on=[*ctx.apis, *grants],
            )
        return self.workflows

    def grant_start(self, member: str) -> ProjectIamMember:
        """Start executions of this stack's workflows only, and read their results.

        ``roles/workflows.invoker`` can be granted on a project only (Workflows roles,
        "Lowest-level resources where you can grant this role: Project"), and Workflows is
        not among the services whose resource names IAM conditions recognize; resource
        tags are recognized by every service. So the stack's workflows carry a tag of their
        own, and the project grant holds only where that tag is (``resource.matchTagId``):
        other workflows in the project stay out of reach.
        """
        ctx = self.ctx
        key = TagsTagKey(
            self,
            "tag-key",
            parent=f"projects/{ctx.project}",
            short_name=ctx.naming.name("workflow"),
            description=f"{ctx.naming.app}: the workflows the functions may start",
            depends_on=ctx.apis,
        )
        value = TagsTagValue(
            self,
            "tag-value",
            parent=key.id,
            short_name="invocable",
            description=f"{ctx.naming.app}: may be started by the functions",
        )
        for key_name, workflow in self.workflows.items():
            TagsLocationTagBinding(
                self,
                f"tag-binding-{key_name.replace('_', '-')}",
                parent=(
                    f"//workflows.googleapis.com/projects/{ctx.project_number}"
                    f"/locations/{ctx.region}/workflows/{workflow.name}"
                ),
                tag_value=value.id,
                location=ctx.region,
            )
        return ProjectIamMember(
            self,
            "function-invoker",
            project=ctx.project,
            role="roles/workflows.invoker",
            member=member,
            condition=ProjectIamMemberCondition(
                title="this stack's workflows only",
                expression=f'resource.matchTagId("{key.id}", "{value.id}")',
            ),
        )
