"""What a staff user's grants are computed from, loaded from the database (DESIGN §3).

The no-escalation rule (resolvers/user_rules.py) compares a user's grants before and after a change.
Both sides are computed by `permissions.grants.compute_grants` from the same pieces a session's
grants are: the admin flag, allLocations, the user's sites and each permission group's permissions
and locations. Unlike a session's grants, deactivated locations count here: a grant at one comes
alive the moment the location is reactivated, so it is a grant all the same and may not be given
by someone who does not hold it. This module loads those pieces and holds them as a `GrantState`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.groups import GroupLocation, PermissionGroup
from permissions.catalog import parse_codes
from permissions.grants import Grants, GroupGrant, compute_grants


async def group_grants(groups: list[PermissionGroup]) -> dict[str, GroupGrant]:
    """Each group by id as the grants computation reads it: its permissions, and where they apply
    (ALL, or its locations, deactivated ones included: see the module's docstring)."""
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


async def current_groups(user_id: Any) -> dict[str, GroupGrant]:
    """The groups the user belongs to now, as `group_grants` gives them."""
    groups = await PermissionGroup.filter(memberships__user_id=user_id)
    return await group_grants(list(groups))


def grants_of(*, is_admin: bool, all_locations: bool, sites: frozenset[str], groups: dict[str, GroupGrant]) -> Grants:
    """The grants a user with these pieces would hold (the same computation as a session's)."""
    return compute_grants(is_admin=is_admin, all_locations=all_locations, site_ids=sites, groups=groups.values())


@dataclass(frozen=True)
class GrantState:
    """What a user's grants are computed from (DESIGN §3), before or after a change."""

    is_admin: bool
    all_locations: bool
    sites: frozenset[str]
    groups: dict[str, GroupGrant]

    def grants(self) -> Grants:
        return grants_of(is_admin=self.is_admin, all_locations=self.all_locations, sites=self.sites, groups=self.groups)
