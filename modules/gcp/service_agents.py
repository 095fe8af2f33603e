"""The Google-managed service agents the stack grants roles to, made to exist first.

A service agent (``service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com`` ...) is
created lazily, when its API is first used, not when the API is enabled; on a fresh
project an IAM grant to it by e-mail fails with "Service account ... does not exist".
``google_project_service_identity`` (Service Usage ``generateServiceIdentity``) creates
the agent and returns its e-mail; the Cloud Storage agent is created by the
``google_storage_project_service_account`` data source. Grants use those e-mails, so
Terraform orders every grant after the agent exists.

``google_project_service_identity`` exists only in the google-beta provider
("These resources are in beta, and should be used with the terraform-provider-google-beta
provider"), so the stack configures google-beta too, at the google provider's version,
with the same project and region, used by these resources only.
"""

from __future__ import annotations

from cdktn import TerraformProvider, TerraformProviderGeneratorMetadata, TerraformResource
from cdktn_provider_google.data_google_storage_project_service_account import (
    DataGoogleStorageProjectServiceAccount,
)
from constructs import Construct

from .context import GcpContext

# The version the google provider binding was generated from (cdktn_provider_google 21.1.0):
# google-beta at the same version, so both read the same API surface.
GOOGLE_PROVIDER_VERSION = "8.7.0"
STORAGE_AGENT_DOMAIN = "gs-project-accounts.iam.gserviceaccount.com"
# Service agent e-mail domain -> the API whose identity it is.
AGENT_SERVICES = {
    "gcp-sa-pubsub.iam.gserviceaccount.com": "pubsub.googleapis.com",
    "gcp-sa-firestore.iam.gserviceaccount.com": "firestore.googleapis.com",
    "cloud-redis.iam.gserviceaccount.com": "redis.googleapis.com",
    "gcp-sa-secretmanager.iam.gserviceaccount.com": "secretmanager.googleapis.com",
    "gcp-sa-workflows.iam.gserviceaccount.com": "workflows.googleapis.com",
    "gcp-sa-cloud-sql.iam.gserviceaccount.com": "sqladmin.googleapis.com",
}


class GoogleBetaProvider(TerraformProvider):
    """``provider "google-beta"``: no binding is installed for it, only what these resources need."""

    def __init__(self, scope: Construct, construct_id: str, project: str, region: str) -> None:
        super().__init__(
            scope,
            construct_id,
            terraform_resource_type="google-beta",
            terraform_generator_metadata=TerraformProviderGeneratorMetadata(
                provider_name="google-beta",
                provider_version=GOOGLE_PROVIDER_VERSION,
                provider_version_constraint=GOOGLE_PROVIDER_VERSION,
            ),
            terraform_provider_source="hashicorp/google-beta",
        )
        self._attributes = {
            "project": project,
            "region": region,
            "user_project_override": True,
            "billing_project": project,
        }

    def _synthesize_attributes(self) -> dict[str, object]:
        return dict(self._attributes)


class ServiceAgents(Construct):
    """``member(domain)``: the agent's ``serviceAccount:`` member, created on first use."""

    def __init__(self, scope: Construct, construct_id: str, ctx: GcpContext) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        self._beta: GoogleBetaProvider | None = None
        self._members: dict[str, str] = {}

    def member(self, domain: str) -> str:
        if domain not in self._members:
            self._members[domain] = f"serviceAccount:{self._email(domain)}"
        return self._members[domain]

    def _email(self, domain: str) -> str:
        ctx = self.ctx
        if domain == STORAGE_AGENT_DOMAIN:
            storage = DataGoogleStorageProjectServiceAccount(
                self, "storage", project=ctx.project, depends_on=ctx.apis
            )
            return storage.email_address
        service = AGENT_SERVICES.get(domain)
        if service is None:
            raise ValueError(
                f"modules/gcp/service_agents.py: no API known for the service agent domain "
                f"{domain!r}; add it to AGENT_SERVICES"
            )
        if self._beta is None:
            self._beta = GoogleBetaProvider(self, "google-beta", ctx.project, ctx.region)
        identity = TerraformResource(
            self,
            service.split(".")[0],
            terraform_resource_type="google_project_service_identity",
            terraform_generator_metadata=TerraformProviderGeneratorMetadata(
                provider_name="google-beta"
            ),
            provider=self._beta,
            depends_on=ctx.apis,
        )
        identity.add_override("project", ctx.project)
        identity.add_override("service", service)
        return identity.get_string_attribute("email")
