"""Batch functions for the relations of organization and users (used through `ctx.loaders.of`)."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.expressions import Q
from tortoise.functions import Max

from app.db import fetch_all
from models.groups import GroupMembership, PermissionGroup
from models.organization import Location
from models.providers import Provider
from models.sessions import LoginAttempt, Session
from models.users import User, UserLocation
from permissions.catalog import parse_codes
from permissions.grants import Grants, GroupGrant, compute_grants
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


_USERS_GRANTS_SQL = """
SELECT CAST(u.id AS TEXT) AS uid, 'user' AS kind,
       CASE WHEN u.is_admin THEN '1' ELSE '0' END AS a, CASE WHEN u.all_locations THEN '1' ELSE '0' END AS b,
       NULL AS c
  FROM users u WHERE u.id IN ({keys})
UNION ALL
SELECT CAST(ul.user_id AS TEXT), 'site', CAST(ul.location_id AS TEXT), NULL, NULL
  FROM users u
  JOIN user_locations ul ON ul.organization_id = u.organization_id AND ul.user_id = u.id
  JOIN locations l ON l.id = ul.location_id
 WHERE u.id IN ({keys}) AND l.is_active = TRUE
UNION ALL
SELECT CAST(m.user_id AS TEXT), 'group', CAST(g.id AS TEXT), g.permission_codes,
       CASE WHEN g.all_locations THEN '1' ELSE '0' END
  FROM users u
  JOIN group_memberships m ON m.organization_id = u.organization_id AND m.user_id = u.id
  JOIN permission_groups g ON g.id = m.group_id
 WHERE u.id IN ({keys})
UNION ALL
SELECT CAST(m.user_id AS TEXT), 'group_location', CAST(gl.group_id AS TEXT), CAST(gl.location_id AS TEXT), NULL
  FROM users u
  JOIN group_memberships m ON m.organization_id = u.organization_id AND m.user_id = u.id
  JOIN group_locations gl ON gl.organization_id = m.organization_id AND gl.group_id = m.group_id
  JOIN locations l ON l.id = gl.location_id
 WHERE u.id IN ({keys}) AND l.is_active = TRUE
"""


def _flag(value: object) -> bool:
    return str(value).lower() in {"1", "true", "t"}


async def user_grants(keys: list[str]) -> list[Grants]:
    """Each user's grants as configured (admin, sites, groups; active locations only): one statement
    for every key, so a page of users costs the same as one (DESIGN §8)."""
    ids = [str(k) for k in keys]
    placeholders = ", ".join("?" for _ in ids)
    rows = await fetch_all(_USERS_GRANTS_SQL.format(keys=placeholders), ids * 4)
    users: dict[str, tuple[bool, bool]] = {}
    sites: dict[str, set[str]] = {}
    groups: dict[str, dict[str, tuple[str, bool]]] = {}
    group_locations: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        uid, kind, a, b, c = str(row["uid"]), row["kind"], row["a"], row["b"], row["c"]
        if kind == "user":
            users[uid] = (_flag(a), _flag(b))
        elif kind == "site":
            sites.setdefault(uid, set()).add(str(a))
        elif kind == "group":
            groups.setdefault(uid, {})[str(a)] = (b or "", _flag(c))
        else:
            group_locations.setdefault(uid, {}).setdefault(str(a), set()).add(str(b))
    result = []
    for uid in ids:
        if uid not in users:
            result.append(Grants())
            continue
        is_admin, all_locations = users[uid]
        result.append(
            compute_grants(
                is_admin=is_admin,
                all_locations=all_locations,
                site_ids=sites.get(uid, set()),
                groups=[
                    GroupGrant(
                        permissions=frozenset(parse_codes(codes)),
                        all_locations=unrestricted,
                        location_ids=frozenset(group_locations.get(uid, {}).get(gid, ())),
                    )
                    for gid, (codes, unrestricted) in groups.get(uid, {}).items()
                ],
            )
        )
    return result


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
