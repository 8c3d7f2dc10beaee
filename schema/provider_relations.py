"""Batch functions for the relations of providers (used through `ctx.loaders.of`).

A provider's clients depend on who is asking (`client_q`), so those batch functions take the
principal as well as the keys; `per_viewer(fn, principal)` turns one into the plain one-argument
batch function a DataLoader wants, equal for the same principal, so a request keeps one loader.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.functions import Count

from models.clients import Client
from models.enums import OPEN_CLIENT_STATUS
from models.organization import Location
from models.providers import Provider
from models.sql import first_per_group
from permissions.principal import Principal
from permissions.scoping import client_q
from schema.loaders import by_id, grouped
from schema.pagination import SortKey, after_q, decode_cursor

# A provider's clients, in the order of the clients list (the index on last, first name, id).
CLIENT_KEYS = (SortKey("last_name_key"), SortKey("first_name_key"), SortKey("id"))


async def providers_by_id(keys: list[str]) -> list[Provider | None]:
    return by_id(await Provider.filter(id__in=keys), keys)


async def organization_locations(keys: list[str]) -> list[list[Location]]:
    """Every active location of each organization: the sites of an all-locations provider."""
    rows = await Location.filter(organization_id__in=keys, is_active=True).order_by("name_key")
    return grouped([(r.organization_id, r) for r in rows], keys)


@dataclass(frozen=True)
class PerViewer:
    """`fn(principal, keys)` as a one-argument batch function, equal (and hashed) by the function
    and the identity of the principal: the key `Loaders.of` caches the request's loader under."""

    fn: Callable[[Principal, list[Any]], Awaitable[Sequence[Any]]]
    principal_id: int
    principal: Principal = field(compare=False, hash=False)

    async def __call__(self, keys: list[Any]) -> Sequence[Any]:
        return await self.fn(self.principal, keys)


def per_viewer(fn: Callable[[Principal, list[Any]], Awaitable[Sequence[Any]]], principal: Principal) -> PerViewer:
    return PerViewer(fn, id(principal), principal)


async def client_counts(principal: Principal, keys: list[str]) -> list[int]:
    """How many open clients (`OPEN_CLIENT_STATUS`, as "My Clients") each provider is primary for,
    among those the viewer may see: one GROUP BY."""
    rows = (
        await Client.filter(client_q(principal), primary_provider_id__in=keys, status=OPEN_CLIENT_STATUS)
        .group_by("primary_provider_id")
        .annotate(n=Count("id"))
        .values("primary_provider_id", "n")
    )
    found = {str(r["primary_provider_id"]): r["n"] for r in rows}
    return [found.get(str(k), 0) for k in keys]


async def client_pages(principal: Principal, keys: list[tuple[str, int, str | None]]) -> list[list[Client]]:
    """For each (provider id, first, after): up to first + 1 of its visible clients after the cursor.

    One window-function statement per distinct (first, after) (in practice one per request: a page
    of providers asks each the same), then one statement for the rows. `client_q` is compiled by
    Tortoise into the windowed query (`first_per_group`), so the visibility rule is the very one
    `clients` uses.
    """
    ids_by_key: dict[tuple[str, int, str | None], list[str]] = {}
    groups: dict[tuple[int, str | None], list[str]] = {}
    for provider_id, first, after in keys:
        groups.setdefault((first, after), []).append(str(provider_id))
    wanted: list[str] = []
    for (first, after), provider_ids in groups.items():
        if first <= 0:
            continue
        query = Client.filter(client_q(principal), primary_provider_id__in=provider_ids, status=OPEN_CLIENT_STATUS)
        if after:
            query = query.filter(after_q(CLIENT_KEYS, decode_cursor(after, CLIENT_KEYS)))
        inner = query.values(i="id", p="primary_provider_id", l="last_name_key", f="first_name_key")
        for row in await first_per_group(inner, "p", ("l", "f", "i"), first + 1):
            ids_by_key.setdefault((str(row["p"]), first, after), []).append(str(row["i"]))
            wanted.append(str(row["i"]))
    clients = {str(c.id): c for c in await Client.filter(id__in=wanted)} if wanted else {}
    result = []
    for provider_id, first, after in keys:
        rows = [clients[i] for i in ids_by_key.get((str(provider_id), first, after), []) if i in clients]
        result.append(sorted(rows, key=lambda c: (c.last_name_key, c.first_name_key, str(c.id))))
    return result
