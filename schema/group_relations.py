"""Batch functions for the relations of permission groups (used through `ctx.loaders.of`).

`group_members` pages the members of many groups at once: one windowed statement per distinct
(first, after) pair, one for the nodes and one count, so `permissionGroups { members { ... } }`
costs the same for 3 groups or 300. The viewer's USERS_READ scope travels in the key (batch
functions see only their keys); the SQL filter is `permissions.scoping.can_see_user` as a WHERE
clause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.db import fetch_all
from models.groups import GroupLocation
from models.organization import Location
from models.users import User
from permissions.catalog import Permission
from permissions.grants import ALL
from permissions.principal import Principal
from schema.loaders import grouped
from schema.pagination import Connection, Edge, PageInfo, SortKey, decode_cursor, encode_cursor

# Members are listed like the users list: by last name, first name, then id (all unique together).
MEMBER_KEYS = (SortKey("last_name_key"), SortKey("first_name"), SortKey("id"))


async def group_locations(keys: list[str]) -> list[list[Location]]:
    links = await GroupLocation.filter(group_id__in=keys).select_related("location")
    result = grouped([(link.group_id, link.location) for link in links], keys)
    return [sorted(rows, key=lambda loc: loc.name_key) for rows in result]


@dataclass(frozen=True)
class MembersKey:
    """One group's `members(first, after)` as seen by one viewer."""

    group_id: str
    first: int
    after: str | None
    viewer_id: str | None
    # Where the viewer holds USERS_READ: None for ALL.
    users_read: frozenset[str] | None

    @classmethod
    def of(cls, principal: Principal, group_id: str, first: int, after: str | None) -> MembersKey:
        scope = principal.grants.scope(Permission.USERS_READ)
        return cls(
            group_id=str(group_id),
            first=first,
            after=after,
            viewer_id=principal.actor_id,
            users_read=None if scope is ALL else frozenset(scope),  # type: ignore[arg-type]
        )


def _visible_sql(key: MembersKey) -> tuple[str, list[Any]]:
    """`can_see_user` over `users u`: oneself; with USERS_READ somewhere, users working everywhere or
    at one of those locations; with it everywhere, everyone."""
    if key.users_read is None:
        return "1 = 1", []
    clauses, params = ["u.id = ?"], [key.viewer_id or "00000000-0000-0000-0000-000000000000"]
    if key.users_read:
        marks = ", ".join("?" for _ in key.users_read)
        clauses.append("u.all_locations = TRUE")
        clauses.append(
            f"EXISTS (SELECT 1 FROM user_locations ul WHERE ul.user_id = u.id AND ul.location_id IN ({marks}))"
        )
        params += sorted(key.users_read)
    return "(" + " OR ".join(clauses) + ")", params


def _after_sql(values: Sequence[Any] | None) -> tuple[str, list[Any]]:
    if values is None:
        return "1 = 1", []
    last, first, uid = values
    return (
        "(u.last_name_key > ? OR (u.last_name_key = ? AND u.first_name > ?)"
        " OR (u.last_name_key = ? AND u.first_name = ? AND u.id > ?))",
        [last, last, first, last, first, str(uid)],
    )


async def _page_ids(keys: Sequence[MembersKey]) -> dict[str, list[str]]:
    """{group id: member ids of the page, plus one to tell whether there is a next page}."""
    sample = keys[0]
    marks = ", ".join("?" for _ in keys)
    visible, visible_params = _visible_sql(sample)
    after, after_params = _after_sql(decode_cursor(sample.after, MEMBER_KEYS) if sample.after else None)
    sql = f"""
SELECT group_id, user_id FROM (
  SELECT CAST(m.group_id AS TEXT) AS group_id, CAST(u.id AS TEXT) AS user_id,
         ROW_NUMBER() OVER (PARTITION BY m.group_id ORDER BY u.last_name_key, u.first_name, u.id) AS rn
    FROM group_memberships m JOIN users u ON u.id = m.user_id
   WHERE m.group_id IN ({marks}) AND {visible} AND {after}
) ranked WHERE rn <= ? ORDER BY group_id, rn"""
    rows = await fetch_all(sql, [*(k.group_id for k in keys), *visible_params, *after_params, sample.first + 1])
    result: dict[str, list[str]] = {}
    for row in rows:
        result.setdefault(str(row["group_id"]), []).append(str(row["user_id"]))
    return result


async def _visible_counts(keys: Sequence[MembersKey]) -> dict[str, int]:
    marks = ", ".join("?" for _ in keys)
    visible, params = _visible_sql(keys[0])
    rows = await fetch_all(
        "SELECT CAST(m.group_id AS TEXT) AS group_id, COUNT(*) AS n FROM group_memberships m"
        f" JOIN users u ON u.id = m.user_id WHERE m.group_id IN ({marks}) AND {visible} GROUP BY m.group_id",
        [*sorted({k.group_id for k in keys}), *params],
    )
    return {str(r["group_id"]): int(r["n"]) for r in rows}


async def group_member_counts(keys: list[MembersKey]) -> list[int]:
    """How many members of each group the viewer may see: a count over hidden users would tell
    that they exist, as `members.totalCount` and a provider's `clientCount` do not."""
    counts = await _visible_counts(keys)
    return [counts.get(k.group_id, 0) for k in keys]


async def group_members(keys: list[MembersKey]) -> list[Connection[Any]]:
    """`members(first, after)` of each key's group, only users the viewer may see."""
    pages: dict[MembersKey, list[str]] = {}
    batches: dict[tuple[Any, ...], list[MembersKey]] = {}
    for key in keys:
        batches.setdefault((key.first, key.after, key.viewer_id, key.users_read), []).append(key)
    for batch in batches.values():
        wanted = [k for k in batch if k.first > 0]
        found = await _page_ids(wanted) if wanted else {}
        for key in batch:
            pages[key] = found.get(key.group_id, []) if key.first > 0 else []
    ids = sorted({uid for page in pages.values() for uid in page})
    users = {str(u.id): u for u in await User.filter(id__in=ids)} if ids else {}
    viewers: dict[tuple[Any, ...], list[MembersKey]] = {}
    for key in keys:
        viewers.setdefault((key.viewer_id, key.users_read), []).append(key)
    counts: dict[tuple[Any, ...], dict[str, int]] = {v: await _visible_counts(ks) for v, ks in viewers.items()}
    result = []
    for key in keys:
        page = pages[key]
        rows = [users[u] for u in page[: key.first] if u in users]
        edges = [Edge(cursor=encode_cursor(r, MEMBER_KEYS), node=r) for r in rows]
        result.append(
            Connection(
                edges=edges,
                page_info=PageInfo(has_next_page=len(page) > key.first, end_cursor=edges[-1].cursor if edges else None),
                known_total=counts[(key.viewer_id, key.users_read)].get(key.group_id, 0),
            )
        )
    return result
