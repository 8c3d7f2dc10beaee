"""The one entry from a bearer token to a principal: what the token's prefix says it opens."""

from __future__ import annotations

from permissions.principal import Principal
from resolvers.context import RequestContext
from resolvers.credentials import PORTAL_SESSION_PREFIX
from resolvers.portal_auth import authenticate_portal
from resolvers.sessions import authenticate_staff


async def authenticate(ctx: RequestContext) -> Principal | None:
    """The principal behind the request's bearer token: a staff session (`tss_`,
    resolvers/sessions.py) or a portal session (`tsp_`, resolvers/portal_auth.py); anything else
    (an unknown prefix, a revoked or expired session) is nobody."""
    if (ctx.token or "").startswith(PORTAL_SESSION_PREFIX):
        return await authenticate_portal(ctx)
    return await authenticate_staff(ctx)
