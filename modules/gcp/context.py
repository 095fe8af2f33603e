"""What every GCP component construct needs: the stack, its settings, the project and region."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktn import ITerraformDependable
from constructs import Construct

from ..common.naming import Naming
from ..common.settings import StackSettings


@dataclass(frozen=True)
class GcpContext:
    scope: Construct
    settings: StackSettings
    naming: Naming
    project: str
    region: str
    project_number: str  # a reference (data.google_project), for service agent e-mails
    # The enabled APIs: resources depend on them so a fresh project applies in one run.
    apis: list[ITerraformDependable] = field(default_factory=list)

    def service_agent(self, domain: str) -> str:
        """``serviceAccount:service-<number>@<domain>``: a Google service's own identity here."""
        return f"serviceAccount:service-{self.project_number}@{domain}"
