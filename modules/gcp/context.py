"""What every GCP component construct needs: the stack, its settings, the project and region."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from cdktn import ITerraformDependable
from constructs import Construct

from ..common.naming import Naming
from ..common.settings import StackSettings


class AgentDirectory(Protocol):
    def member(self, domain: str) -> str: ...


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
    # Creates each service agent before it is granted a role (service_agents.py).
    agents: AgentDirectory | None = None

    def service_agent(self, domain: str) -> str:
        """The ``serviceAccount:`` member of a Google service's own identity in this project.

        With ``agents`` (the stack sets it) a reference to the created agent, so each grant
        waits for it; without, the documented ``service-<number>@<domain>`` e-mail.
        """
        if self.agents is not None:
            return self.agents.member(domain)
        return f"serviceAccount:service-{self.project_number}@{domain}"
