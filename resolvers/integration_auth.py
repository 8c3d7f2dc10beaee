"""API tokens (`tsk_...`): the INTEGRATION principal behind one (docs/architecture.md "Principals and
grants"). Two statements a request: the token with its integration, then the integration's active
locations; nothing is cached, so a revoked token or a deactivated integration is refused on the very
next request. `lastUsedAt` is written at most once a minute, not on every request.
"""

from __future__ import annotations

from datetime import timedelta

from models.integrations import ApiToken, IntegrationLocation
from permissions.catalog import Permission
from permissions.grants import ALL, integration_grants
from permissions.principal import Principal, PrincipalKind
from resolvers.context import RequestContext
from resolvers.credentials import API_TOKEN_PREFIX
from resolvers.sessions import find_by_token

LAST_USED_EVERY = timedelta(minutes=1)


def known_permissions(names: list[str]) -> list[Permission]:
    """An integration's stored permission names that the catalogue still knows."""
    return [Permission(name) for name in names if name in Permission.__members__]


async def authenticate_token(ctx: RequestContext) -> Principal | None:
    found = await find_by_token(ctx, API_TOKEN_PREFIX, ApiToken, "integration", "organization")
    now = ctx.now()
    if found is None or (found.expires_at is not None and found.expires_at <= now):
        return None
    integration = found.integration
    if not integration.is_active:
        return None
    sites = await IntegrationLocation.filter(integration_id=integration.id, location__is_active=True).values_list(
        "location_id", flat=True
    )
    site_ids = frozenset(str(s) for s in sites)
    if found.last_used_at is None or now - found.last_used_at > LAST_USED_EVERY:
        await ApiToken.filter(id=found.id).update(last_used_at=now)
        found.last_used_at = now
    return Principal(
        kind=PrincipalKind.INTEGRATION,
        organization=found.organization,
        grants=integration_grants(known_permissions(integration.permissions), integration.all_locations, site_ids),
        sites=ALL if integration.all_locations else site_ids,
        integration=integration,
        api_token=found,
    )
