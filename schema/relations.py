"""Batch functions for the relations of organization and users (used through `ctx.loaders.of`)."""

from __future__ import annotations

from datetime import datetime

from tortoise.functions import Max

from models.groups import GroupMembership, PermissionGroup
from models.organization import Location
from models.sessions import Session
from models.users import User, UserLocation
from permissions.grants import Grants
from resolvers.sessions import grants_from, load_access_data
from schema.loaders import by_id, grouped


async def locations_by_id(keys: list[str]) -> list[Location | None]:
    return by_id(await Location.filter(id__in=keys), keys)


async def users_by_id(keys: list[str]) -> list[User | None]:
    return by_id(await User.filter(id__in=keys), keys)


async def user_locations(keys: list[str]) -> list[list[Location]]:
    links = await UserLocation.filter(user_id__in=keys).select_related("location")
    result = grouped([(link.user_id, link.location) for link in links], keys)
    return [sorted(rows, key=lambda loc: loc.name_key) for rows in result]


async def user_site_ids(keys: list[str]) -> list[list[str]]:
    rows = await UserLocation.filter(user_id__in=keys).values_list("user_id", "location_id")
    return grouped([(u, str(loc)) for u, loc in rows], keys)


async def user_groups(keys: list[str]) -> list[list[PermissionGroup]]:
    memberships = await GroupMembership.filter(user_id__in=keys).select_related("group")
    result = grouped([(m.user_id, m.group) for m in memberships], keys)
    return [sorted(rows, key=lambda g: g.name_key) for rows in result]


async def user_last_login(keys: list[str]) -> list[datetime | None]:
    rows = (
        await Session.filter(user_id__in=keys)
        .group_by("user_id")
        .annotate(last=Max("created_at"))
        .values("user_id", "last")
    )
    found = {str(r["user_id"]): r["last"] for r in rows}
    return [found.get(str(k)) for k in keys]


async def user_grants(keys: list[str]) -> list[Grants]:
    # TODO(issue 3): one statement for all keys (the users page must stay at a fixed count).
    users = {str(u.id): u for u in await User.filter(id__in=keys)}
    result = []
    for key in keys:
        user = users.get(str(key))
        result.append(grants_from(user, await load_access_data(key)) if user else Grants())
    return result
