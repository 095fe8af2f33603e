"""A private VPC for the cache: Memorystore has no public endpoint, so the functions reach
it through Direct VPC egress into this subnet (private ranges only; Google APIs keep
their normal path, with Private Google Access on for anything that needs it)."""

from __future__ import annotations

from cdktn_provider_google.compute_firewall import (
    ComputeFirewall,
    ComputeFirewallDeny,
    ComputeFirewallLogConfig,
)
from cdktn_provider_google.compute_network import ComputeNetwork
from cdktn_provider_google.compute_subnetwork import ComputeSubnetwork, ComputeSubnetworkLogConfig
from constructs import Construct

from .context import GcpContext


class PrivateNetwork(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: GcpContext) -> None:
        super().__init__(scope, construct_id)
        self.network = ComputeNetwork(
            self,
            "vpc",
            name=ctx.naming.name("vpc"),
            project=ctx.project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            depends_on=ctx.apis,
        )
        self.subnet = ComputeSubnetwork(
            self,
            "functions",
            name=ctx.naming.name("functions"),
            project=ctx.project,
            region=ctx.region,
            network=self.network.id,
            ip_cidr_range="10.50.0.0/24",
            private_ip_google_access=True,
            log_config=ComputeSubnetworkLogConfig(
                aggregation_interval="INTERVAL_5_MIN",
                flow_sampling=0.5,
                metadata="INCLUDE_ALL_METADATA",
            ),
        )
        # Nothing listens in this VPC but Memorystore (reached over peering): deny every
        # inbound connection explicitly, and log what is denied.
        ComputeFirewall(
            self,
            "deny-ingress",
            name=ctx.naming.name("deny-ingress"),
            project=ctx.project,
            network=self.network.id,
            direction="INGRESS",
            priority=65000,
            source_ranges=["0.0.0.0/0"],
            deny=[ComputeFirewallDeny(protocol="all")],
            log_config=ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA"),
        )
