"""Azure Database for PostgreSQL Flexible Server with Microsoft Entra logins.

Chosen by ``database.engine = "postgres"``. Password logins are off: the function
app's managed identity is the server's Entra administrator and logs in with an
Entra token (``auth=azure_entra``), so no password exists anywhere. The built-in
PgBouncer (port 6432) pools the function instances' connections in General
Purpose tiers (production); the Burstable tier outside production has no PgBouncer
and is reached on 5432.

Production: private access only (a private endpoint in the stack's VNet, public
access off), zone-redundant high availability (a standby in another zone), 35 days
of backups with point-in-time restore, geo-redundant. Elsewhere: public access
limited to Azure services (Flex Consumption has no fixed outbound address).

The schema: the backends create their tables on first use; the identity is the
administrator, so it may.
"""

from __future__ import annotations

from cdktn_provider_azurerm.postgresql_flexible_server import (
    PostgresqlFlexibleServer,
    PostgresqlFlexibleServerAuthentication,
    PostgresqlFlexibleServerHighAvailability,
)
from cdktn_provider_azurerm.postgresql_flexible_server_active_directory_administrator import (
    PostgresqlFlexibleServerActiveDirectoryAdministrator,
)
from cdktn_provider_azurerm.postgresql_flexible_server_configuration import (
    PostgresqlFlexibleServerConfiguration,
)
from cdktn_provider_azurerm.postgresql_flexible_server_database import (
    PostgresqlFlexibleServerDatabase,
)
from cdktn_provider_azurerm.postgresql_flexible_server_firewall_rule import (
    PostgresqlFlexibleServerFirewallRule,
)
from constructs import Construct

from .context import AzureContext
from .network import PRIVATE_DNS_ZONES, PrivateNetwork

DATABASE = "statekit"
PGBOUNCER_PORT = 6432
POSTGRES_PORT = 5432
PRIVATE_DNS_ZONES.setdefault("postgresqlServer", "privatelink.postgres.database.azure.com")


class FlexiblePostgres(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: AzureContext,
        network: PrivateNetwork | None,
        user: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        production = ctx.settings.production
        self.user = user  # the function app's name: its identity's Entra principal name
        self.server = PostgresqlFlexibleServer(
            self,
            "server",
            name=ctx.naming.unique("pg", 63),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
            version="16",
            sku_name="GP_Standard_D2ds_v5" if production else "B_Standard_B1ms",
            storage_mb=32768,
            auto_grow_enabled=True,
            backup_retention_days=35 if production else 7,
            geo_redundant_backup_enabled=production,
            public_network_access_enabled=network is None,
            authentication=PostgresqlFlexibleServerAuthentication(
                active_directory_auth_enabled=True,
                password_auth_enabled=False,
                tenant_id=ctx.tenant_id,
            ),
            high_availability=PostgresqlFlexibleServerHighAvailability(mode="ZoneRedundant")
            if production
            else None,
            zone="1",
            tags=ctx.settings.all_tags(),
        )
        PostgresqlFlexibleServerDatabase(
            self,
            "database",
            name=DATABASE,
            server_id=self.server.id,
            charset="UTF8",
            collation="en_US.utf8",
        )
        # PgBouncer exists only in General Purpose and Memory Optimized tiers.
        self.pgbouncer = production
        if self.pgbouncer:
            PostgresqlFlexibleServerConfiguration(
                self, "pgbouncer", name="pgbouncer.enabled", server_id=self.server.id, value="true"
            )
        if network is not None:
            network.connect("postgres", self.server.id, "postgresqlServer")
        else:
            PostgresqlFlexibleServerFirewallRule(
                self,
                "azure-services",
                name="AllowAzureServices",
                server_id=self.server.id,
                start_ip_address="0.0.0.0",
                end_ip_address="0.0.0.0",
            )

    def grant_login(self, principal_id: str) -> None:
        """The function app's identity becomes the server's Entra administrator."""
        PostgresqlFlexibleServerActiveDirectoryAdministrator(
            self,
            "functions-admin",
            server_name=self.server.name,
            resource_group_name=self.ctx.resource_group_name,
            tenant_id=self.ctx.tenant_id,
            object_id=principal_id,
            principal_name=self.user,
            principal_type="ServicePrincipal",
        )

    @property
    def url(self) -> str:
        port = PGBOUNCER_PORT if self.pgbouncer else POSTGRES_PORT
        return (
            f"postgresql://{self.user}@{self.server.fqdn}:{port}/{DATABASE}"
            "?auth=azure_entra&sslmode=verify-full"
        )
