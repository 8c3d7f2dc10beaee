"""Batch functions for the relations of permission groups (used through `ctx.loaders.of`).

`group_members` pages the members of many groups at once: one windowed statement per distinct
(first, after) pair, one for the nodes and one count, so `permissionGroups { members { ... } }`
costs the same for 3 groups or 300. Which members show is the members' row filter
(`permissions.scoping.group_member_q`: the users' rule, and only the viewer itself to one who may not
see groups), compiled by Tortoise into those statements: batch functions see only
their keys, so each key carries the request's principal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.expressions import Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from models.groups import GroupLocation, GroupMembership
from models.organization import Location
from models.sql import first_per_group
from models.users import User
from permissions.principal import Principal
from permissions.scoping import group_member_q
from schema.loaders import grouped
from schema.pagination import Connection, SortKey, after_q, decode_cursor, edges_of, page_info

# Members are listed like the users list: by last name, first name, then id (all unique together).
MEMBER_KEYS = (SortKey("last_name_key"), SortKey("first_name"), SortKey("id"))


async def group_locations(keys: list[str]) -> list[list[Location]]:
    links = await GroupLocation.filter(group_id__in=keys).select_related("location")
    result = grouped([(link.group_id, link.location) for link in links], keys)
    return [sorted(rows, key=lambda loc: loc.name_key) for rows in result]


@dataclass(frozen=True)
class MembersKey:
    """One group's `members(first, after)` as seen by one viewer (equal by the identity of the
    principal, which the batch functions need for the row filter)."""

    group_id: str
    first: int
    after: str | None
    viewer: int
    principal: Principal = field(compare=False, hash=False, repr=False)

    @classmethod
    def of(cls, principal: Principal, group_id: str, first: int, after: str | None) -> MembersKey:
        return cls(group_id=str(group_id), first=first, after=after, viewer=id(principal), principal=principal)


def _memberships(keys: Sequence[MembersKey], members: QuerySet[User]) -> QuerySet[GroupMembership]:
    """The keys' groups' memberships of `members` (already narrowed by the viewer's `group_member_q`)."""
    return GroupMembership.filter(
        group_id__in=sorted({k.group_id for k in keys}), user_id__in=Subquery(members.values("id"))
    )


async def _page_ids(keys: Sequence[MembersKey]) -> dict[str, list[str]]:
    """{group id: member ids of the page, plus one to tell whether there is a next page}."""
    sample = keys[0]
    members = User.filter(group_member_q(sample.principal))
    if sample.after:
        members = members.filter(after_q(MEMBER_KEYS, decode_cursor(sample.after, MEMBER_KEYS)))
    query = _memberships(keys, members).values(g="group_id", u="user_id", l="user__last_name_key", f="user__first_name")
    result: dict[str, list[str]] = {}
    for row in await first_per_group(query, "g", ("l", "f", "u"), sample.first + 1):
        result.setdefault(str(row["g"]), []).append(str(row["u"]))
    return result


async def _visible_counts(keys: Sequence[MembersKey]) -> dict[str, int]:
    members = User.filter(group_member_q(keys[0].principal))
    rows = await _memberships(keys, members).group_by("group_id").annotate(n=Count("id")).values("group_id", "n")
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
        batches.setdefault((key.first, key.after, key.viewer), []).append(key)
    for batch in batches.values():
        wanted = [k for k in batch if k.first > 0]
        found = await _page_ids(wanted) if wanted else {}
        for key in batch:
            pages[key] = found.get(key.group_id, []) if key.first > 0 else []
    ids = sorted({uid for page in pages.values() for uid in page})
    users = {str(u.id): u for u in await User.filter(id__in=ids)} if ids else {}
    viewers: dict[int, list[MembersKey]] = {}
    for key in keys:
        viewers.setdefault(key.viewer, []).append(key)
    counts: dict[int, dict[str, int]] = {v: await _visible_counts(ks) for v, ks in viewers.items()}
    result = []
    for key in keys:
        page = pages[key]
        rows = [users[u] for u in page[: key.first] if u in users]
        edges = edges_of(rows, MEMBER_KEYS)
        result.append(
            Connection(
                edges=edges,
                page_info=page_info(edges, len(page) > key.first),
                known_total=counts[key.viewer].get(key.group_id, 0),
            )
        )
    return result
