"""Private services access for the functions' VPC: Cloud SQL and Memorystore for
Memcached reach it through one peering with Google's service producer network.

One reserved /20 and one ``servicenetworking`` connection per VPC, made once by
whichever component needs it first (``private_services``).
"""

from __future__ import annotations

from cdktn_provider_google.compute_global_address import ComputeGlobalAddress
from cdktn_provider_google.service_networking_connection import ServiceNetworkingConnection
from constructs import Construct

from .apis import enable_api
from .context import GcpContext
from .network import PrivateNetwork


class PrivateServices(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, ctx: GcpContext, network: PrivateNetwork
    ) -> None:
        super().__init__(scope, construct_id)
        api = enable_api(self, "api", ctx.project, "servicenetworking.googleapis.com")
        self.range = ComputeGlobalAddress(
            self,
            "range",
            name=ctx.naming.name("private-services"),
            project=ctx.project,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            prefix_length=20,
            network=network.network.id,
            depends_on=ctx.apis,
        )
        self.connection = ServiceNetworkingConnection(
            self,
            "connection",
            network=network.network.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[self.range.name],
            depends_on=[api],
        )


def private_services(scope: Construct, ctx: GcpContext, network: PrivateNetwork) -> PrivateServices:
    """The VPC's one private services connection (made by the first component asking)."""
    found: PrivateServices | None = getattr(network, "private_services", None)
    if found is None:
        found = PrivateServices(scope, "private-services", ctx, network)
        network.private_services = found  # type: ignore[attr-defined]
    return found
