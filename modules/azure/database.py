"""Cosmos DB (NoSQL API): account, database and the one container statekit uses.

- Partition key path ``/pk`` (docs/urls.md); ``default_ttl = -1`` turns TTL on with no
  default so statekit's per-item ``ttl`` works and items without one never expire.
- Zone-redundant in production (replicas in the region's availability zones).
- Consistency from settings; continuous backup (30 days with point-in-time recovery on,
  else 7); serverless when capacity is on-demand outside production, autoscale otherwise.
- Local (key) auth off: the function's managed identity gets the built-in Data
  Contributor role on this one container only.
- Public network access off when the stack is private; reached by private endpoint.
- Customer-managed key (a user-assigned identity reads the vault key) when set.
"""

from __future__ import annotations

from cdktn import TerraformResourceLifecycle
from cdktn_provider_azurerm.cosmosdb_account import (
    CosmosdbAccount,
    CosmosdbAccountBackup,
    CosmosdbAccountCapabilities,
    CosmosdbAccountConsistencyPolicy,
    CosmosdbAccountGeoLocation,
    CosmosdbAccountIdentity,
)
from cdktn_provider_azurerm.cosmosdb_sql_container import (
    CosmosdbSqlContainer,
    CosmosdbSqlContainerAutoscaleSettings,
)
from cdktn_provider_azurerm.cosmosdb_sql_database import CosmosdbSqlDatabase
from cdktn_provider_azurerm.cosmosdb_sql_role_assignment import CosmosdbSqlRoleAssignment
from cdktn_provider_azurerm.management_lock import ManagementLock
from constructs import Construct

from .context import AzureContext
from .network import PrivateNetwork
from .vault import Vault

CONSISTENCY_LEVELS = {
    "strong": "Strong",
    "bounded_staleness": "BoundedStaleness",
    "session": "Session",
}
# Built-in "Cosmos DB Built-in Data Contributor" (data plane; read, write, query, delete).
DATA_CONTRIBUTOR_ROLE = "00000000-0000-0000-0000-000000000002"
DATABASE_NAME = "statekit"
CONTAINER_NAME = "items"


def autoscale_max_throughput(max_capacity: int) -> int:
    """Autoscale maximum RU/s from the neutral ``max_capacity``: x100, in steps of 1000, >= 1000."""
    return max(1000, -(-max_capacity * 100 // 1000) * 1000)


class CosmosDatabase(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: AzureContext,
        vault: Vault,
        network: PrivateNetwork | None,
    ) -> None:
        super().__init__(scope, construct_id)
        settings = ctx.settings.database
        self.serverless = settings.capacity_mode == "on_demand" and not ctx.settings.production
        cmk = vault.encryption_key if settings.customer_managed_key else None
        identity = vault.encryption_identity if cmk is not None else None
        self.account = CosmosdbAccount(
            self,
            "account",
            name=ctx.naming.unique("cosmos", 44),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
            offer_type="Standard",
            kind="GlobalDocumentDB",
            consistency_policy=CosmosdbAccountConsistencyPolicy(
                consistency_level=CONSISTENCY_LEVELS[settings.consistency],
                # Only read for BoundedStaleness; the service's minimums for a single region.
                max_interval_in_seconds=300
                if settings.consistency == "bounded_staleness"
                else None,
                max_staleness_prefix=100000
                if settings.consistency == "bounded_staleness"
                else None,
            ),
            # Zone redundancy is fixed when a region is added (it cannot be switched on later)
            # and serverless accounts do not offer it: on for production, which is provisioned.
            geo_location=[
                CosmosdbAccountGeoLocation(
                    location=ctx.location,
                    failover_priority=0,
                    zone_redundant=ctx.settings.production and not self.serverless,
                )
            ],
            capabilities=(
                [CosmosdbAccountCapabilities(name="EnableServerless")] if self.serverless else None
            ),
            backup=CosmosdbAccountBackup(
                type="Continuous",
                tier="Continuous30Days" if settings.point_in_time_recovery else "Continuous7Days",
            ),
            local_authentication_enabled=False,
            access_key_metadata_writes_enabled=False,
            minimal_tls_version="Tls12",
            public_network_access_enabled=not ctx.private,
            is_virtual_network_filter_enabled=ctx.private,
            network_acl_bypass_for_azure_services=False,
            key_vault_key_id=cmk.versionless_id if cmk is not None else None,
            identity=(
                CosmosdbAccountIdentity(type="UserAssigned", identity_ids=[identity.id])
                if identity is not None
                else None
            ),
            default_identity_type=(
                f"UserAssignedIdentity={identity.id}" if identity is not None else None
            ),
            lifecycle=TerraformResourceLifecycle(prevent_destroy=settings.deletion_protection),
            depends_on=vault.encryption_dependencies() if cmk is not None else None,
        )
        if settings.deletion_protection:
            ManagementLock(
                self,
                "lock",
                name=ctx.naming.name("cosmos-lock"),
                scope=self.account.id,
                lock_level="CanNotDelete",
                notes="statekit: the state store; remove this lock deliberately before deleting",
            )
        if network is not None:
            network.connect("cosmos", self.account.id, "Sql")
        self.database = CosmosdbSqlDatabase(
            self,
            "database",
            name=DATABASE_NAME,
            account_name=self.account.name,
            resource_group_name=ctx.resource_group_name,
        )
        self.container = CosmosdbSqlContainer(
            self,
            "container",
            name=CONTAINER_NAME,
            account_name=self.account.name,
            database_name=self.database.name,
            resource_group_name=ctx.resource_group_name,
            partition_key_paths=[f"/{settings.partition_key}"],
            partition_key_version=2,
            default_ttl=-1,
            autoscale_settings=(
                None
                if self.serverless
                else CosmosdbSqlContainerAutoscaleSettings(
                    max_throughput=autoscale_max_throughput(settings.max_capacity)
                )
            ),
        )
        self.ctx = ctx

    @property
    def url(self) -> str:
        """``cosmos://ACCOUNT_HOST/DATABASE/CONTAINER`` (docs/urls.md)."""
        return f"cosmos://{self.account.name}.documents.azure.com/{DATABASE_NAME}/{CONTAINER_NAME}"

    def grant_data_access(self, principal_id: str) -> CosmosdbSqlRoleAssignment:
        """Data Contributor for ``principal_id`` on this container only."""
        return CosmosdbSqlRoleAssignment(
            self,
            "function-data-contributor",
            account_name=self.account.name,
            resource_group_name=self.ctx.resource_group_name,
            role_definition_id=f"{self.account.id}/sqlRoleDefinitions/{DATA_CONTRIBUTOR_ROLE}",
            principal_id=principal_id,
            scope=f"{self.account.id}/dbs/{self.database.name}/colls/{self.container.name}",
        )
