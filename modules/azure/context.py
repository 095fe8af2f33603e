"""What every Azure component construct needs: the stack, its settings and where things go."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from ..common.naming import Naming
from ..common.settings import StackSettings


@dataclass(frozen=True)
class AzureContext:
    scope: Construct
    settings: StackSettings
    naming: Naming
    location: str
    resource_group_name: str
    resource_group_id: str
    tenant_id: str
    deployer_object_id: str  # who runs terraform: needs data-plane access to write vault secrets

    @property
    def private(self) -> bool:
        """Data services are reached only through private endpoints (no public network access).

        Driven by ``database.public_network_access`` (false in prod and staging): on Azure
        the function reaches every data service the same way, so one switch covers them.
        """
        return not self.settings.database.public_network_access
