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
from functools import cache
from typing import Any

from models.groups import GroupLocation, PermissionGroup
from models.organization import Organization
from models.sessions import Session
from models.sql import fetch_all, flag, from_row, select_list
from models.users import User
from permissions.catalog import parse_codes
from permissions.grants import GrantSources, GroupGrant

# Where a user's grants come from, one UNION branch a source (columns uid, kind, a, b, c), filtered
# by `{who}`, a condition on the branch's table alias `t` naming the organization and the user(s):
# every lookup names the organization, because the link tables' indexes lead with it.
_BRANCHES = """
SELECT CAST(t.user_id AS TEXT) AS uid, 'site' AS kind, CAST(t.location_id AS TEXT) AS a,
       CASE WHEN l.is_active THEN '1' ELSE '0' END AS b, NULL AS c
  FROM user_locations t JOIN locations l ON l.id = t.location_id
 WHERE {who}
UNION ALL
SELECT CAST(t.user_id AS TEXT), 'group', CAST(g.id AS TEXT), g.permission_codes,
       CASE WHEN g.all_locations THEN '1' ELSE '0' END
  FROM group_memberships t JOIN permission_groups g ON g.id = t.group_id
 WHERE {who}
UNION ALL
SELECT CAST(t.user_id AS TEXT), 'group_location', CAST(gl.group_id AS TEXT), CAST(gl.location_id AS TEXT),
       CASE WHEN l.is_active THEN '1' ELSE '0' END
  FROM group_memberships t
  JOIN group_locations gl ON gl.organization_id = t.organization_id AND gl.group_id = t.group_id
  JOIN locations l ON l.id = gl.location_id
 WHERE {who}
UNION ALL
SELECT CAST(t.user_id AS TEXT), 'provider', CAST(t.status AS TEXT), CAST(t.deactivate_at AS TEXT), NULL
  FROM providers t
 WHERE {who}
"""
_BRANCH_COUNT = 4

# A batch of users: their own flags, then the branches (parameters: the organization, then the ids,
# once per branch).
_USERS_SQL = """
SELECT CAST(u.id AS TEXT) AS uid, 'user' AS kind,
       CASE WHEN u.is_admin THEN '1' ELSE '0' END AS a, CASE WHEN u.all_locations THEN '1' ELSE '0' END AS b,
       NULL AS c
  FROM users u WHERE u.organization_id = ? AND u.id IN ({keys})
UNION ALL""" + _BRANCHES.replace("{who}", "t.organization_id = ? AND t.user_id IN ({keys})")

# A session with its user, organization and grant pieces in ONE statement (a request's first): the
# session, user and organization columns repeat on each grant row (a handful), and stand alone
# (grant columns NULL) for a user with none. Parameters: the token hash, twice.
_ME = "t.organization_id = (SELECT oid FROM me) AND t.user_id = (SELECT uid FROM me)"


@cache
def _session_sql() -> str:
    """Built once, on first use: the models' column lists are complete only once the ORM is set up
    (foreign-key columns are added then)."""
    columns = ", ".join(
        (select_list(Session, "s", "s_"), select_list(User, "u", "u_"), select_list(Organization, "o", "o_"))
    )
    return f"""
WITH me AS (SELECT organization_id AS oid, user_id AS uid FROM sessions WHERE token_hash = ? AND revoked_at IS NULL)
SELECT {columns},
       g.kind AS g_kind, g.a AS g_a, g.b AS g_b, g.c AS g_c
  FROM sessions s
  JOIN users u ON u.id = s.user_id AND u.organization_id = s.organization_id
  JOIN organizations o ON o.id = s.organization_id
  LEFT JOIN ({_BRANCHES.replace("{who}", _ME)}) g
    ON 1 = 1
 WHERE s.token_hash = ? AND s.revoked_at IS NULL
"""


@dataclass
class _Group:
    codes: str
    all_locations: bool
    locations: dict[str, bool] = field(default_factory=dict)  # location id -> active

    def grant(self, inactive: bool, reactivated: str | None = None) -> GroupGrant:
        return GroupGrant(
            permissions=frozenset(parse_codes(self.codes)),
            all_locations=self.all_locations,
            location_ids=frozenset(
                lid for lid, active in self.locations.items() if active or inactive or lid == reactivated
            ),
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
    pending: list[tuple[str, str, bool]] = field(default_factory=list, repr=False)  # see `add`

    def sources(self, *, inactive_locations: bool, reactivated: str | None = None) -> GrantSources:
        """The pieces `compute_grants` reads; with `inactive_locations`, deactivated ones count too;
        with `reactivated`, that one location counts as active again (what reactivating it gives)."""
        return GrantSources(
            is_admin=self.is_admin,
            all_locations=self.all_locations,
            sites=frozenset(
                lid for lid, active in self.sites.items() if active or inactive_locations or lid == reactivated
            ),
            groups={gid: g.grant(inactive_locations, reactivated) for gid, g in self.groups.items()},
        )

    def add(self, kind: str, a: Any, b: Any, c: Any) -> None:
        """One branch row of `_BRANCHES`; a group's locations wait until `finish`, when every group is
        known (the UNION gives no order)."""
        if kind == "site":
            self.sites[str(a)] = flag(b)
        elif kind == "group":
            self.groups[str(a)] = _Group(b or "", flag(c))
        elif kind == "group_location":
            self.pending.append((str(a), str(b), flag(c)))
        elif kind == "provider":
            self.provider_status = a
            self.provider_deactivate_at = datetime.fromisoformat(b) if b else None

    def finish(self) -> UserAccess:
        """Place the group locations read by `add` in their groups."""
        for group_id, location_id, active in self.pending:
            group = self.groups.get(group_id)
            if group is not None:
                group.locations[location_id] = active
        self.pending.clear()
        return self

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
    rows = await fetch_all(_USERS_SQL.replace("{keys}", keys), [str(organization_id), *ids] * (_BRANCH_COUNT + 1))
    found: dict[str, UserAccess] = {}
    for row in rows:
        uid, kind = str(row["uid"]), row["kind"]
        access = found.setdefault(uid, UserAccess())
        if kind == "user":
            access.is_admin, access.all_locations = flag(row["a"]), flag(row["b"])
        else:
            access.add(kind, row["a"], row["b"], row["c"])
    return {uid: access.finish() for uid, access in found.items()}


@dataclass
class SessionAccess:
    """A live session's row with its user, organization and the user's `UserAccess`."""

    session: Session
    user: User
    organization: Organization
    access: UserAccess


async def load_session_access(token_hash: str) -> SessionAccess | None:
    """The unrevoked session with this token hash, its user, organization and grant pieces, in one
    statement (`_session_sql`), or None. Expiry and standing are the caller's to judge."""
    rows = await fetch_all(_session_sql(), [token_hash, token_hash])
    if not rows:
        return None
    first = rows[0]
    user = from_row(User, first, "u_")
    organization = from_row(Organization, first, "o_")
    session = from_row(Session, first, "s_")
    user.organization = organization
    session.user = user
    access = UserAccess(is_admin=user.is_admin, all_locations=user.all_locations)
    for row in rows:
        if row["g_kind"] is not None:
            access.add(row["g_kind"], row["g_a"], row["g_b"], row["g_c"])
    return SessionAccess(session, user, organization, access.finish())


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
