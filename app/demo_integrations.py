"""The demo's partner integration: an online booking site that reads clients and providers at the
Downtown location. It has no token yet: the README's "A partner's first call" makes one."""

from __future__ import annotations

from models.integrations import Integration, IntegrationLocation
from models.organization import Location, Organization
from permissions.catalog import Permission

INTEGRATION_NAME = "Online booking site"


async def load(org: Organization, locations: dict[str, Location]) -> None:
    integration = await Integration.create(
        organization=org,
        name=INTEGRATION_NAME,
        description="Shows Downtown's providers and lets existing clients book.",
        permissions=[Permission.CLIENTS_READ.value, Permission.PROVIDERS_READ.value],
    )
    await IntegrationLocation.create(organization=org, integration=integration, location=locations["Downtown"])
