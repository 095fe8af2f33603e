"""Aurora Serverless v2 PostgreSQL behind RDS Proxy, with IAM authentication.

Chosen by ``database.engine = "postgres"``. The functions reach the proxy inside the
VPC and log in with an RDS IAM token (``auth=aws_iam``: their role holds
``rds-db:connect`` on the proxy for the one database user); the proxy reaches the
cluster with the master credentials that RDS itself keeps in Secrets Manager
(``manage_master_user_password``: no password in Terraform, in state or in any
URL). Hundreds of function instances share the proxy's few connections to the
cluster; each instance keeps a pool of 1-2 (statekit.clients.postgresql).

* Scaling: Serverless v2 from 0 ACU (auto-pause, PostgreSQL 16.3+) outside
  production, from 0.5 ACU in production (no resume pause on the first request).
* Encryption with the stack key; TLS required by the proxy.
* Production: a reader in the second zone (failover), 14 days of backups, which on
  Aurora are continuous (point-in-time recovery to any second in the window),
  deletion protection and a final snapshot.
* The schema: the backends create their tables on first use (idempotent DDL,
  docs/postgresql.md); the master user owns the database, so nothing else is run.
"""

from __future__ import annotations

from cdktn import Fn, Token
from cdktn_provider_aws.db_proxy import DbProxy, DbProxyAuth
from cdktn_provider_aws.db_proxy_default_target_group import (
    DbProxyDefaultTargetGroup,
    DbProxyDefaultTargetGroupConnectionPoolConfig,
)
from cdktn_provider_aws.db_proxy_target import DbProxyTarget
from cdktn_provider_aws.db_subnet_group import DbSubnetGroup
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.rds_cluster import RdsCluster, RdsClusterServerlessv2ScalingConfiguration
from cdktn_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktn_provider_aws.security_group import SecurityGroup
from cdktn_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from ..common.aspects import PolicyRule, at_least, is_set, is_true, register_rules
from .context import AwsContext, allow, policy_document
from .network import Network

POSTGRES_PORT = 5432
ENGINE_VERSION = "16.6"  # scaling to 0 ACU needs Aurora PostgreSQL 16.3+ (or 15.7+, 14.12+)
DATABASE = "statekit"
USER = "statekit"
MAX_ACU = 16

# Production rules, checked by the common policy aspect like every other component's.
register_rules(
    "aws_rds_cluster",
    [
        PolicyRule("encryption", "storage_encrypted with kms_key_id", is_set("kms_key_id")),
        PolicyRule(
            "backup", "backup_retention_period >= 7", at_least("backup_retention_period", 7)
        ),
        PolicyRule(
            "deletion_protection", "deletion_protection is true", is_true("deletion_protection")
        ),
    ],
)
register_rules(
    "aws_db_proxy", [PolicyRule("encryption", "require_tls is true", is_true("require_tls"))]
)


class AuroraPostgres(Construct):
    """``postgresql://statekit@PROXY:5432/statekit?auth=aws_iam&region=R&sslmode=verify-full``."""

    def __init__(self, scope: Construct, id_: str, ctx: AwsContext, network: Network) -> None:
        super().__init__(scope, id_)
        settings = ctx.settings
        production = settings.production
        name = ctx.naming.name("pg", max_length=50)
        self.sg = SecurityGroup(
            self,
            "sg",
            name=f"{name}-db",
            description="statekit PostgreSQL: the proxy from the functions, the cluster from the proxy",
            vpc_id=network.vpc.id,
        )
        for rule_id, source in (
            ("from-functions", network.function_sg.id),
            ("from-proxy", self.sg.id),
        ):
            VpcSecurityGroupIngressRule(
                self,
                rule_id,
                security_group_id=self.sg.id,
                ip_protocol="tcp",
                from_port=POSTGRES_PORT,
                to_port=POSTGRES_PORT,
                referenced_security_group_id=source,
                description=f"PostgreSQL {rule_id}",
            )
        VpcSecurityGroupEgressRule(
            self,
            "proxy-to-cluster",
            security_group_id=self.sg.id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            referenced_security_group_id=self.sg.id,
            description="PostgreSQL from the proxy to the cluster",
        )
        VpcSecurityGroupEgressRule(
            self,
            "functions-to-proxy",
            security_group_id=network.function_sg.id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            referenced_security_group_id=self.sg.id,
            description="PostgreSQL TLS to RDS Proxy",
        )
        subnets = DbSubnetGroup(
            self, "subnets", name=name, subnet_ids=network.subnet_ids, description="statekit db"
        )
        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=name,
            engine="aurora-postgresql",
            engine_mode="provisioned",
            engine_version=ENGINE_VERSION,
            database_name=DATABASE,
            master_username=USER,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=ctx.key_arn,
            iam_database_authentication_enabled=True,
            storage_encrypted=True,
            kms_key_id=ctx.key_arn,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[self.sg.id],
            serverlessv2_scaling_configuration=RdsClusterServerlessv2ScalingConfiguration(
                min_capacity=0.5 if production else 0,
                max_capacity=MAX_ACU,
                seconds_until_auto_pause=None if production else 600,
            ),
            backup_retention_period=14 if production else 1,
            copy_tags_to_snapshot=True,
            deletion_protection=settings.database.deletion_protection,
            skip_final_snapshot=not production,
            final_snapshot_identifier=f"{name}-final" if production else None,
            enabled_cloudwatch_logs_exports=["postgresql"],
        )
        for index in range(2 if production else 1):
            RdsClusterInstance(
                self,
                f"instance-{index}",
                identifier=f"{name}-{index}",
                cluster_identifier=self.cluster.id,
                instance_class="db.serverless",
                engine=self.cluster.engine,
                engine_version=self.cluster.engine_version,
                db_subnet_group_name=subnets.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                performance_insights_enabled=production,
                performance_insights_kms_key_id=ctx.key_arn if production else None,
            )
        secret_arn = Token.as_string(self.cluster.master_user_secret.get(0).secret_arn)
        proxy_role = IamRole(
            self,
            "proxy-role",
            name=f"{name}-proxy",
            assume_role_policy=policy_document(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "rds.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ),
        )
        statements = [allow(["secretsmanager:GetSecretValue"], [secret_arn], "ReadMasterSecret")]
        if ctx.key_arn:
            statements.append(allow(["kms:Decrypt"], [ctx.key_arn], "DecryptMasterSecret"))
        IamRolePolicy(
            self, "proxy-policy", role=proxy_role.name, policy=policy_document(*statements)
        )
        self.proxy = DbProxy(
            self,
            "proxy",
            name=name,
            engine_family="POSTGRESQL",
            role_arn=proxy_role.arn,
            vpc_subnet_ids=network.subnet_ids,
            vpc_security_group_ids=[self.sg.id],
            require_tls=True,
            idle_client_timeout=1800,
            auth=[
                DbProxyAuth(
                    auth_scheme="SECRETS",
                    iam_auth="REQUIRED",  # clients log in with IAM tokens only
                    secret_arn=secret_arn,
                    client_password_auth_type="POSTGRES_SCRAM_SHA_256",
                )
            ],
        )
        DbProxyDefaultTargetGroup(
            self,
            "proxy-targets",
            db_proxy_name=self.proxy.name,
            connection_pool_config=DbProxyDefaultTargetGroupConnectionPoolConfig(
                max_connections_percent=90, connection_borrow_timeout=5
            ),
        )
        DbProxyTarget(
            self,
            "proxy-target",
            db_proxy_name=self.proxy.name,
            target_group_name="default",
            db_cluster_identifier=self.cluster.cluster_identifier,
        )
        # rds-db:connect names the proxy's resource id (prx-...), the last part of its ARN.
        proxy_id = Fn.element(Fn.split(":", self.proxy.arn), 6)
        self.connect_arn = ctx.arn("rds-db", f"dbuser:{proxy_id}/{USER}")

    def grant_connect(self, ctx: AwsContext, role_name: str, id_: str = "functions-connect") -> None:
        """A function's role may log in as the one database user, through the proxy."""
        IamRolePolicy(
            self,
            id_,
            role=role_name,
            # jsonencode, not a JSON string: the ARN holds an expression with quotes in it.
            policy=Fn.jsonencode(
                {
                    "Version": "2012-10-17",
                    "Statement": [allow(["rds-db:connect"], [self.connect_arn], "ConnectAsApp")],
                }
            ),
        )

    def url(self, region: str) -> str:
        return (
            f"postgresql://{USER}@{self.proxy.endpoint}:{POSTGRES_PORT}/{DATABASE}"
            f"?auth=aws_iam&region={region}&sslmode=verify-full"
        )
