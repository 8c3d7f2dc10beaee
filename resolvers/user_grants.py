"""The one grants loader: what staff users' grants are computed from, for one user or a batch, in one
statement (docs/architecture.md, "Principals and grants").

Every path that needs a user's grants reads them here: a session's principal (`authenticate_staff`),
the `User.effectivePermissions` field (a DataLoader batch), and every no-escalation check (a user's
grants before and after a change, a group's members). `UserAccess.sources` gives the pieces for
`permissions.grants.GrantSources`: for a session only active locations count; for a check of what
a change gives (`configured`), deactivated locations count too, because a grant at one comes alive
the moment the location is reactivated, so it may not be given by someone who does not hold it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.groups import GroupLocation, PermissionGroup
from models.sql import fetch_all, flag
from permissions.catalog import parse_codes
from permissions.grants import GrantSources, GroupGrant

_SQL = """
SELECT CAST(u.id AS TEXT) AS uid, 'user' AS kind,
       CASE WHEN u.is_admin THEN '1' ELSE '0' END AS a, CASE WHEN u.all_locations THEN '1' ELSE '0' END AS b,
       NULL AS c
  FROM users u WHERE u.organization_id = ? AND u.id IN ({keys})
UNION ALL
SELECT CAST(ul.user_id AS TEXT), 'site', CAST(ul.location_id AS TEXT), CASE WHEN l.is_active THEN '1' ELSE '0' END,
       NULL
  FROM user_locations ul JOIN locations l ON l.id = ul.location_id
 WHERE ul.organization_id = ? AND ul.user_id IN ({keys})
UNION ALL
SELECT CAST(m.user_id AS TEXT), 'group', CAST(g.id AS TEXT), g.permission_codes,
       CASE WHEN g.all_locations THEN '1' ELSE '0' END
  FROM group_memberships m JOIN permission_groups g ON g.id = m.group_id
 WHERE m.organization_id = ? AND m.user_id IN ({keys})
UNION ALL
SELECT CAST(m.user_id AS TEXT), 'group_location', CAST(gl.group_id AS TEXT), CAST(gl.location_id AS TEXT),
       CASE WHEN l.is_active THEN '1' ELSE '0' END
  FROM group_memberships m
  JOIN group_locations gl ON gl.organization_id = m.organization_id AND gl.group_id = m.group_id
  JOIN locations l ON l.id = gl.location_id
 WHERE m.organization_id = ? AND m.user_id IN ({keys})
UNION ALL
SELECT CAST(p.user_id AS TEXT), 'provider', CAST(p.status AS TEXT), CAST(p.deactivate_at AS TEXT), NULL
  FROM providers p WHERE p.organization_id = ? AND p.user_id IN ({keys})
"""


@dataclass
class _Group:
    codes: str
    all_locations: bool
    locations: dict[str, bool] = field(default_factory=dict)  # location id -> active

    def grant(self, inactive: bool) -> GroupGrant:
        return GroupGrant(
            permissions=frozenset(parse_codes(self.codes)),
            all_locations=self.all_locations,
            location_ids=frozenset(lid for lid, active in self.locations.items() if active or inactive),
        )


@dataclass
class UserAccess:
    """One user's grant pieces (sites and groups with each location's active flag) and provider state."""

    is_admin: bool = False
    all_locations: bool = False
    sites: dict[str, bool] = field(default_factory=dict)  # location id -> active
    groups: dict[str, _Group] = field(default_factory=dict)
    provider_status: str | None = None
    provider_deactivate_at: datetime | None = None

    def sources(self, *, inactive_locations: bool) -> GrantSources:
        """The pieces `compute_grants` reads; with `inactive_locations`, deactivated ones count too."""
        return GrantSources(
            is_admin=self.is_admin,
            all_locations=self.all_locations,
            sites=frozenset(lid for lid, active in self.sites.items() if active or inactive_locations),
            groups={gid: g.grant(inactive_locations) for gid, g in self.groups.items()},
        )

    @property
    def configured(self) -> GrantSources:
        """What a change to this user gives or restores: deactivated locations included."""
        return self.sources(inactive_locations=True)


async def load_access(organization_id: Any, user_ids: Iterable[Any]) -> dict[str, UserAccess]:
    """Each user's `UserAccess`, by id (users of other organizations are absent): one statement.

    Every lookup names the organization: the link tables' indexes lead with it."""
    ids = sorted({str(u) for u in user_ids})
    if not ids:
        return {}
    keys = ", ".join("?" for _ in ids)
    rows = await fetch_all(_SQL.format(keys=keys), [str(organization_id), *ids] * 5)
    found: dict[str, UserAccess] = {}
    group_locations: list[tuple[str, str, str, bool]] = []
    for row in rows:
        uid, kind, a, b, c = str(row["uid"]), row["kind"], row["a"], row["b"], row["c"]
        access = found.setdefault(uid, UserAccess())
        if kind == "user":
            access.is_admin, access.all_locations = flag(a), flag(b)
        elif kind == "site":
            access.sites[str(a)] = flag(b)
        elif kind == "group":
            access.groups[str(a)] = _Group(b or "", flag(c))
        elif kind == "group_location":
            group_locations.append((uid, str(a), str(b), flag(c)))
        else:
            access.provider_status = a
            access.provider_deactivate_at = datetime.fromisoformat(b) if b else None
    for uid, gid, lid, active in group_locations:
        group = found[uid].groups.get(gid)
        if group is not None:
            group.locations[lid] = active
    return found


async def load_user_access(organization_id: Any, user_id: Any) -> UserAccess:
    """One user's `UserAccess` (empty for an unknown id)."""
    return (await load_access(organization_id, [user_id])).get(str(user_id), UserAccess())


async def configured_sources(organization_id: Any, user_id: Any) -> GrantSources:
    """What a user's grants are configured to be: what taking over or restoring it hands out."""
    return (await load_user_access(organization_id, user_id)).configured


async def group_grants(groups: list[PermissionGroup]) -> dict[str, GroupGrant]:
    """Groups chosen for a user, by id, as the grants computation reads them: their permissions and
    where they apply (ALL, or their locations, deactivated ones included, as `configured` counts)."""
    if not groups:
        return {}
    links = await GroupLocation.filter(group_id__in=[g.id for g in groups]).values_list("group_id", "location_id")
    locations: dict[str, set[str]] = {}
    for gid, lid in links:
        locations.setdefault(str(gid), set()).add(str(lid))
    return {
        str(g.id): GroupGrant(
            permissions=frozenset(parse_codes(g.permission_codes)),
            all_locations=g.all_locations,
            location_ids=frozenset(locations.get(str(g.id), ())),
        )
        for g in groups
    }
