"""Batch functions for the relations of organization and users (used through `ctx.loaders.of`)."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import Q
from tortoise.functions import Max

from models.groups import GroupMembership, PermissionGroup
from models.organization import Location
from models.providers import Provider
from models.sessions import LoginAttempt, Session
from models.users import User, UserLocation
from permissions.grants import NO_GRANTS, Grants
from resolvers.user_grants import UserAccess, load_access
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
    """Each user's grants as configured (admin, sites, groups; active locations only), through the
    one grants loader: one statement per organization (keys are "organization_id|user_id"), so a
    page of users costs the same as one (docs/architecture.md "Performance rules")."""
    pairs = [str(k).split("|", 1) for k in keys]
    found: dict[str, UserAccess] = {}
    for organization_id in sorted({org for org, _ in pairs}):
        found.update(await load_access(organization_id, [uid for org, uid in pairs if org == organization_id]))
    return [found[uid].sources(inactive_locations=False).grants() if uid in found else NO_GRANTS for _, uid in pairs]


async def user_providers(keys: list[str]) -> list[Provider | None]:
    """The provider profile of each user (or None)."""
    return by_id(await Provider.filter(user_id__in=keys), keys, attr="user_id")


async def user_locked(keys: list[str]) -> list[bool]:
    """Keys are "organization_id|username_key": whether the login throttle holds that username now."""
    pairs = [str(k).split("|", 1) for k in keys]
    now_ts = int(datetime.now(UTC).timestamp())
    rows = await LoginAttempt.filter(
        Q(organization_id__in=sorted({p[0] for p in pairs}), username_key__in=sorted({p[1] for p in pairs})),
        Q(ip_locked_until__gt=now_ts) | Q(user_locked_until__gt=now_ts),
    ).values_list("organization_id", "username_key")
    locked = {f"{org}|{name}" for org, name in rows}
    return [str(k) in locked for k in keys]
