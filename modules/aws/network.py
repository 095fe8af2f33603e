"""A private VPC for the functions and the cache (ElastiCache is reachable only inside a VPC).

No internet route: the functions reach DynamoDB through a gateway endpoint and SQS,
Step Functions and Secrets Manager through interface endpoints. Flow logs on, the
default security group closed (no rules).
"""

from __future__ import annotations

from cdktn_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktn_provider_aws.default_security_group import DefaultSecurityGroup
from cdktn_provider_aws.flow_log import FlowLog
from cdktn_provider_aws.iam_role import IamRole
from cdktn_provider_aws.iam_role_policy import IamRolePolicy
from cdktn_provider_aws.route_table import RouteTable
from cdktn_provider_aws.route_table_association import RouteTableAssociation
from cdktn_provider_aws.security_group import SecurityGroup
from cdktn_provider_aws.subnet import Subnet
from cdktn_provider_aws.vpc import Vpc
from cdktn_provider_aws.vpc_endpoint import VpcEndpoint
from cdktn_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktn_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from .context import AwsContext, allow, policy_document

CIDR = "10.42.0.0/16"
SUBNETS = ("10.42.0.0/20", "10.42.16.0/20")
REDIS_PORT = 6379
# ElastiCache Serverless answers reads from replicas on the next port (READONLY clients):
# both must be open (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/set-up.html#elasticache-install-grant-access-VPN).
SERVERLESS_READER_PORT = 6380
# Fixed zone letters, not a data source: the subnets must not move when AWS adds a zone,
# and every AWS region has zones a and b.
ZONES = ("a", "b")


class Network(Construct):
    def __init__(
        self, scope: Construct, id_: str, ctx: AwsContext, *, interface_services: list[str]
    ) -> None:
        super().__init__(scope, id_)
        name = ctx.naming.name("vpc")
        self.vpc = Vpc(
            self,
            "vpc",
            cidr_block=CIDR,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": name},
        )
        DefaultSecurityGroup(self, "default-sg", vpc_id=self.vpc.id)  # no rules: deny all
        routes = RouteTable(
            self, "private-routes", vpc_id=self.vpc.id, tags={"Name": f"{name}-private"}
        )
        self.subnet_ids: list[str] = []
        for index, cidr in enumerate(SUBNETS):
            subnet = Subnet(
                self,
                f"private-{index}",
                vpc_id=self.vpc.id,
                cidr_block=cidr,
                availability_zone=f"{ctx.region}{ZONES[index]}",
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-private-{index}"},
            )
            RouteTableAssociation(
                self, f"private-{index}-routes", subnet_id=subnet.id, route_table_id=routes.id
            )
            self.subnet_ids.append(subnet.id)

        self.function_sg = SecurityGroup(
            self,
            "functions-sg",
            name=f"{name}-functions",
            description="statekit functions",
            vpc_id=self.vpc.id,
        )
        self.cache_sg = SecurityGroup(
            self,
            "cache-sg",
            name=f"{name}-cache",
            description="statekit cache: Redis/Valkey from the functions only",
            vpc_id=self.vpc.id,
        )
        endpoint_sg = SecurityGroup(
            self,
            "endpoints-sg",
            name=f"{name}-endpoints",
            description="statekit interface endpoints: HTTPS from the functions only",
            vpc_id=self.vpc.id,
        )
        last_port = (
            SERVERLESS_READER_PORT if ctx.settings.cache.mode == "serverless" else REDIS_PORT
        )
        VpcSecurityGroupIngressRule(
            self,
            "cache-from-functions",
            security_group_id=self.cache_sg.id,
            ip_protocol="tcp",
            from_port=REDIS_PORT,
            to_port=last_port,
            referenced_security_group_id=self.function_sg.id,
            description="Redis/Valkey TLS from the functions",
        )
        VpcSecurityGroupEgressRule(
            self,
            "functions-to-cache",
            security_group_id=self.function_sg.id,
            ip_protocol="tcp",
            from_port=REDIS_PORT,
            to_port=last_port,
            referenced_security_group_id=self.cache_sg.id,
            description="Redis/Valkey TLS to the cache",
        )
        VpcSecurityGroupEgressRule(
            self,
            "functions-to-endpoints",
            security_group_id=self.function_sg.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=endpoint_sg.id,
            description="HTTPS to the interface endpoints",
        )
        VpcSecurityGroupIngressRule(
            self,
            "endpoints-from-functions",
            security_group_id=endpoint_sg.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            referenced_security_group_id=self.function_sg.id,
            description="HTTPS from the functions",
        )
        dynamodb = VpcEndpoint(
            self,
            "dynamodb-endpoint",
            vpc_id=self.vpc.id,
            vpc_endpoint_type="Gateway",
            service_name=f"com.amazonaws.{ctx.region}.dynamodb",
            route_table_ids=[routes.id],
        )
        VpcSecurityGroupEgressRule(
            self,
            "functions-to-dynamodb",
            security_group_id=self.function_sg.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            prefix_list_id=dynamodb.prefix_list_id,
            description="HTTPS to DynamoDB through the gateway endpoint",
        )
        for service in interface_services:
            VpcEndpoint(
                self,
                f"{service}-endpoint",
                vpc_id=self.vpc.id,
                vpc_endpoint_type="Interface",
                service_name=f"com.amazonaws.{ctx.region}.{service}",
                private_dns_enabled=True,
                subnet_ids=self.subnet_ids,
                security_group_ids=[endpoint_sg.id],
            )
        self._flow_logs(ctx, name)

    def _flow_logs(self, ctx: AwsContext, name: str) -> None:
        group = CloudwatchLogGroup(
            self,
            "flow-logs",
            name=f"/statekit/{ctx.settings.env}/vpc-flow-logs",
            retention_in_days=ctx.settings.observability.log_retention_days,
            kms_key_id=ctx.key_arn,
        )
        role = IamRole(
            self,
            "flow-logs-role",
            name=f"{name}-flow-logs",
            assume_role_policy=policy_document(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    # Only this account's flow logs may assume the role (confused deputy:
                    # https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html).
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": ctx.account_id},
                        "ArnLike": {
                            "aws:SourceArn": ctx.arn("ec2", "vpc-flow-log/*"),
                        },
                    },
                }
            ),
        )
        IamRolePolicy(
            self,
            "flow-logs-policy",
            role=role.id,
            name="write-flow-logs",
            policy=policy_document(
                allow(
                    ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    [group.arn, f"{group.arn}:*"],
                )
            ),
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination=group.arn,
            log_destination_type="cloud-watch-logs",
            iam_role_arn=role.arn,
        )
