"""The one entry from a bearer token to a principal: what the token's prefix says it opens."""

from __future__ import annotations

from permissions.principal import Principal
from resolvers.context import RequestContext
from resolvers.credentials import API_TOKEN_PREFIX, PORTAL_SESSION_PREFIX
from resolvers.integration_auth import authenticate_token
from resolvers.portal_auth import authenticate_portal
from resolvers.sessions import authenticate_staff


async def authenticate(ctx: RequestContext) -> Principal | None:
    """The principal behind the request's bearer token: a staff session (`tss_`,
    resolvers/sessions.py), a portal session (`tsp_`, resolvers/portal_auth.py) or an API token
    (`tsk_`, resolvers/integration_auth.py); anything else (an unknown prefix, a revoked or expired
    one) is nobody."""
    token = ctx.token or ""
    if token.startswith(PORTAL_SESSION_PREFIX):
        return await authenticate_portal(ctx)
    if token.startswith(API_TOKEN_PREFIX):
        return await authenticate_token(ctx)
    return await authenticate_staff(ctx)
