"""The Google APIs the stack uses, enabled by the stack itself (never disabled on destroy)."""

from __future__ import annotations

from cdktn_provider_google.project_service import ProjectService
from constructs import Construct

from ..common.settings import StackSettings

BASE_APIS = (
    "firestore.googleapis.com",
    "pubsub.googleapis.com",
    "cloudfunctions.googleapis.com",
    "run.googleapis.com",
    "cloudbuild.googleapis.com",
    "artifactregistry.googleapis.com",
    "secretmanager.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "cloudtrace.googleapis.com",  # Cloud Trace: the functions' traces
    "iam.googleapis.com",
    "compute.googleapis.com",
    "billingbudgets.googleapis.com",
)


def required_apis(settings: StackSettings) -> list[str]:
    apis = list(BASE_APIS)
    if settings.components.cache:
        apis.append("redis.googleapis.com")
    if settings.components.orchestrator:
        apis.append("workflows.googleapis.com")
        # Tag keys, values and bindings (the workflow's invoker condition, orchestrator.py).
        apis.append("cloudresourcemanager.googleapis.com")
    if settings.database.customer_managed_key:
        apis.append("cloudkms.googleapis.com")
    return apis


def enable_apis(scope: Construct, settings: StackSettings) -> list[ProjectService]:
    return [
        enable_api(scope, f"api-{api.split('.')[0]}", settings.project, api)
        for api in required_apis(settings)
    ]


def enable_api(scope: Construct, construct_id: str, project: str, service: str) -> ProjectService:
    """``service`` on in ``project``, and left on when the stack is destroyed."""
    return ProjectService(
        scope,
        construct_id,
        service=service,
        project=project,
        # Other stacks or people may use the same API in this project.
        disable_on_destroy=False,
        disable_dependent_services=False,
    )
