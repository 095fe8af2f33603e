"""Cloud SQL for PostgreSQL with IAM database authentication, on a private IP.

Chosen by ``database.engine = "postgres"``. The functions' service account is a
Cloud SQL IAM user (``CLOUD_IAM_SERVICE_ACCOUNT``) and logs in with its OAuth2
access token as the password (``auth=gcp_iam``: no password exists anywhere), over
TLS to the instance's private IP through Direct VPC egress; the documented path for
functions without the Cloud SQL Auth Proxy or a connector library. The instance has
no public IP in any environment (a public IP would need the proxy or authorized
networks), encryption with the stack key where there is one.

Production: regional (a standby in another zone), daily backups with point-in-time
recovery (write-ahead logs kept 7 days), deletion protection.

The schema: the backends create their tables on first use. Cloud SQL's IAM users
start without privileges and PostgreSQL 15+ lets no one create in ``public``: run
once, as the ``postgres`` user, ``GRANT ALL ON SCHEMA public TO "<service account
e-mail without .gserviceaccount.com>"`` (docs/postgresql.md); Terraform cannot reach
a private instance to do it.
"""

from __future__ import annotations

from cdktn import Fn
from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.sql_database import SqlDatabase
from cdktn_provider_google.sql_database_instance import (
    SqlDatabaseInstance,
    SqlDatabaseInstanceSettings,
    SqlDatabaseInstanceSettingsBackupConfiguration,
    SqlDatabaseInstanceSettingsDatabaseFlags,
    SqlDatabaseInstanceSettingsIpConfiguration,
)
from cdktn_provider_google.sql_user import SqlUser
from constructs import Construct

from .apis import enable_api
from .context import GcpContext
from .kms import DataKey
from .network import PrivateNetwork
from .private_services import private_services

DATABASE = "statekit"
POSTGRES_PORT = 5432
SQL_AGENT = "gcp-sa-cloud-sql.iam.gserviceaccount.com"


class CloudSqlPostgres(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        ctx: GcpContext,
        network: PrivateNetwork,
        key: DataKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        production = ctx.settings.production
        api = enable_api(self, "api", ctx.project, "sqladmin.googleapis.com")
        peering = private_services(scope, ctx, network)
        grant = key.allow("cloudsql", ctx.service_agent(SQL_AGENT)) if key else None
        self.instance = SqlDatabaseInstance(
            self,
            "instance",
            name=ctx.naming.name("pg", 60),
            project=ctx.project,
            region=ctx.region,
            database_version="POSTGRES_16",
            encryption_key_name=key.id if key else None,
            deletion_protection=production,
            settings=SqlDatabaseInstanceSettings(
                tier="db-custom-1-3840" if production else "db-f1-micro",
                edition="ENTERPRISE",
                availability_type="REGIONAL" if production else "ZONAL",
                deletion_protection_enabled=production,
                ip_configuration=SqlDatabaseInstanceSettingsIpConfiguration(
                    ipv4_enabled=False,
                    private_network=network.network.id,
                    ssl_mode="ENCRYPTED_ONLY",
                ),
                backup_configuration=SqlDatabaseInstanceSettingsBackupConfiguration(
                    enabled=production,
                    point_in_time_recovery_enabled=production,
                    transaction_log_retention_days=7 if production else None,
                ),
                database_flags=[
                    SqlDatabaseInstanceSettingsDatabaseFlags(
                        name="cloudsql.iam_authentication", value="on"
                    )
                ],
                user_labels=ctx.settings.all_tags(),
            ),
            depends_on=[api, peering.connection, *ctx.apis, *([grant] if grant else [])],
        )
        SqlDatabase(
            self, "database", name=DATABASE, instance=self.instance.name, project=ctx.project
        )

    def grant_login(self, email: str) -> str:
        """Make the functions' service account an IAM database user; return its user name."""
        user = Fn.trimsuffix(email, ".gserviceaccount.com")
        SqlUser(
            self,
            "functions-user",
            name=user,
            instance=self.instance.name,
            project=self.ctx.project,
            type="CLOUD_IAM_SERVICE_ACCOUNT",
        )
        for role in ("roles/cloudsql.client", "roles/cloudsql.instanceUser"):
            ProjectIamMember(
                self,
                role.split(".")[-1],
                project=self.ctx.project,
                role=role,
                member=f"serviceAccount:{email}",
            )
        self.user = user
        return user

    @property
    def url(self) -> str:
        return (
            f"postgresql://{self.user}@{self.instance.private_ip_address}:{POSTGRES_PORT}/"
            f"{DATABASE}?auth=gcp_iam&sslmode=require"
        )
