"""Finding the client a staff operation names (docs/architecture.md "Scoping pairs"): through the
client rule's row filter, so a client out of sight reads exactly as a missing one, then the
operation's own permission at the client's location."""

from __future__ import annotations

from typing import Any

from models.clients import Client
from permissions.catalog import Permission
from permissions.principal import Principal
from permissions.scoping import client_q
from resolvers.errors import ErrorCode, fail
from resolvers.inputs import parse_uuid


async def visible_client(principal: Principal, client_id: Any) -> Client | None:
    """The client if the principal may see it; None for a missing, malformed or out-of-sight id."""
    parsed = parse_uuid(client_id)
    if parsed is None:
        return None
    return await Client.filter(client_q(principal), id=parsed).first()


async def client_to_act_on(
    principal: Principal, client_id: Any, permission: Permission, refusal: str, *path: str
) -> Client:
    """The client, visible to the principal, at a location where it holds `permission`; else
    NOT_FOUND (out of sight, as a missing one) or FORBIDDEN at `path` saying `refusal`."""
    client = await visible_client(principal, client_id)
    if client is None:
        raise fail(ErrorCode.NOT_FOUND, "No such client.", *path)
    if not principal.grants.has(permission, str(client.location_id)):
        raise fail(ErrorCode.FORBIDDEN, refusal, *path)
    return client
