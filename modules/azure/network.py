"""Private networking for stacks whose data services have no public network access.

A virtual network with two subnets: one delegated to the Flex Consumption function
app (outbound VNet integration) and one for private endpoints. Each data service
gets a private endpoint and the matching ``privatelink`` DNS zone linked to the
VNet, so the service's normal host name resolves to its private address from the
function, and the URLs in docs/urls.md stay unchanged.
"""

from __future__ import annotations

from cdktn_provider_azurerm.network_security_group import NetworkSecurityGroup
from cdktn_provider_azurerm.private_dns_zone import PrivateDnsZone
from cdktn_provider_azurerm.private_dns_zone_virtual_network_link import (
    PrivateDnsZoneVirtualNetworkLink,
)
from cdktn_provider_azurerm.private_endpoint import (
    PrivateEndpoint,
    PrivateEndpointPrivateDnsZoneGroup,
    PrivateEndpointPrivateServiceConnection,
)
from cdktn_provider_azurerm.subnet import (
    Subnet,
    SubnetDelegation,
    SubnetDelegationServiceDelegation,
)
from cdktn_provider_azurerm.subnet_network_security_group_association import (
    SubnetNetworkSecurityGroupAssociation,
)
from cdktn_provider_azurerm.virtual_network import VirtualNetwork
from constructs import Construct

from .context import AzureContext

# Private DNS zone per private-link sub-resource (Azure's documented zone names).
PRIVATE_DNS_ZONES = {
    "Sql": "privatelink.documents.azure.com",
    "redisCache": "privatelink.redis.cache.windows.net",
    "vault": "privatelink.vaultcore.azure.net",
    "queue": "privatelink.queue.core.windows.net",
    "blob": "privatelink.blob.core.windows.net",
    "table": "privatelink.table.core.windows.net",
}


class PrivateNetwork(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: AzureContext) -> None:
        super().__init__(scope, construct_id)
        self.ctx = ctx
        naming = ctx.naming
        self.vnet = VirtualNetwork(
            self,
            "vnet",
            name=naming.name("vnet"),
            location=ctx.location,
            resource_group_name=ctx.resource_group_name,
            address_space=["10.40.0.0/16"],
        )
        self.function_subnet = Subnet(
            self,
            "functions",
            name="functions",
            resource_group_name=ctx.resource_group_name,
            virtual_network_name=self.vnet.name,
            address_prefixes=["10.40.1.0/24"],
            default_outbound_access_enabled=False,
            delegation=[
                SubnetDelegation(
                    name="flex-consumption",
                    service_delegation=SubnetDelegationServiceDelegation(
                        name="Microsoft.App/environments",
                        actions=["Microsoft.Network/virtualNetworks/subnets/join/action"],
                    ),
                )
            ],
        )
        self.endpoint_subnet = Subnet(
            self,
            "endpoints",
            name="private-endpoints",
            resource_group_name=ctx.resource_group_name,
            virtual_network_name=self.vnet.name,
            address_prefixes=["10.40.2.0/24"],
            default_outbound_access_enabled=False,
        )
        # Default rules only (VNet-internal traffic allowed, inbound from the internet denied):
        # an explicit NSG per subnet so later rules have one place to go.
        for subnet in (self.function_subnet, self.endpoint_subnet):
            nsg = NetworkSecurityGroup(
                self,
                f"nsg-{subnet.node.id}",
                name=naming.name(f"nsg-{subnet.node.id}"),
                location=ctx.location,
                resource_group_name=ctx.resource_group_name,
            )
            SubnetNetworkSecurityGroupAssociation(
                self,
                f"nsg-link-{subnet.node.id}",
                subnet_id=subnet.id,
                network_security_group_id=nsg.id,
            )
        self._zones: dict[str, PrivateDnsZone] = {}

    def _zone(self, subresource: str) -> PrivateDnsZone:
        if subresource not in self._zones:
            zone = PrivateDnsZone(
                self,
                f"zone-{subresource.lower()}",
                name=PRIVATE_DNS_ZONES[subresource],
                resource_group_name=self.ctx.resource_group_name,
            )
            PrivateDnsZoneVirtualNetworkLink(
                self,
                f"zone-link-{subresource.lower()}",
                name=f"{self.ctx.naming.name('vnet')}-{subresource.lower()}",
                private_dns_zone_id=zone.id,
                virtual_network_id=self.vnet.id,
                registration_enabled=False,
            )
            self._zones[subresource] = zone
        return self._zones[subresource]

    def connect(self, component: str, resource_id: str, subresource: str) -> PrivateEndpoint:
        """A private endpoint for ``resource_id``'s ``subresource`` (Sql, redisCache, queue...)."""
        name = self.ctx.naming.name(f"pe-{component}-{subresource.lower()}")
        return PrivateEndpoint(
            self,
            f"pe-{component}-{subresource.lower()}",
            name=name,
            location=self.ctx.location,
            resource_group_name=self.ctx.resource_group_name,
            subnet_id=self.endpoint_subnet.id,
            private_service_connection=PrivateEndpointPrivateServiceConnection(
                name=name,
                is_manual_connection=False,
                private_connection_resource_id=resource_id,
                subresource_names=[subresource],
            ),
            private_dns_zone_group=PrivateEndpointPrivateDnsZoneGroup(
                name="default", private_dns_zone_ids=[self._zone(subresource).id]
            ),
        )
