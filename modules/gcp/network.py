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

from ..common.settings import StackSettings
from .context import GcpContext

EGRESS_BASE = "10.50.0.0"
# Google reserves four addresses of every subnet's primary range.
RESERVED_PER_SUBNET = 4
# Cloud Run, Direct VPC egress ("IP address allocation"): the range must be /26 or larger,
# and a service uses twice as many addresses as it has instances in steady state.
LARGEST_PREFIX = 26
ADDRESSES_PER_INSTANCE = 2
DEFAULT_MAX_INSTANCES = 100  # the functions' max_instance_count without reserved concurrency


def function_max_instances(settings: StackSettings) -> int:
    """One function's ``max_instance_count`` (functions.py uses the same rule)."""
    reserved = settings.functions.reserved_concurrency
    return reserved if reserved > 0 else DEFAULT_MAX_INSTANCES


def egress_prefix_length(max_instances: int) -> int:
    """The longest prefix whose range holds 2 addresses per instance plus the reserved four."""
    needed = ADDRESSES_PER_INSTANCE * max_instances + RESERVED_PER_SUBNET
    return min(LARGEST_PREFIX, 32 - (needed - 1).bit_length())


def egress_range(settings: StackSettings, function_count: int) -> str:
    """The functions' egress subnet, sized for ``function_count`` functions (the App's and
    its activity function) at their maximum scale at once."""
    total = function_count * function_max_instances(settings)
    return f"{EGRESS_BASE}/{egress_prefix_length(total)}"


class PrivateNetwork(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, ctx: GcpContext, function_count: int
    ) -> None:
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
            ip_cidr_range=egress_range(ctx.settings, function_count),
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
