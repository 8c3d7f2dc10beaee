"""Batch functions for the relations of a client (used through `ctx.loaders.of`), in the style of
schema/relations.py. They return raw rows; the fields that use them apply `permissions.scoping`.

Clients come with their primary provider joined (`select_related`), because the scoping rule
(`can_see_client`) needs the provider's user id. `primaryProvider` itself goes through
schema/provider_relations.providers_by_id, shared with the providers domain, so a request loads
each provider once.
"""

from __future__ import annotations

from models.clients import Client
from schema.loaders import by_id, grouped


async def clients_by_id(keys: list[str]) -> list[Client | None]:
    """Clients by id (e.g. a merged client's survivor), with their primary provider."""
    return by_id(await Client.filter(id__in=keys).select_related("primary_provider"), keys)


async def clients_merged_into(keys: list[str]) -> list[list[Client]]:
    """For each survivor id, the MERGED clients that point at it (lineage), oldest merge first."""
    rows = await Client.filter(merged_into_id__in=keys).select_related("primary_provider").order_by("merged_at", "id")
    return grouped([(row.merged_into_id, row) for row in rows], keys)
