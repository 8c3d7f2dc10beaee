"""What a principal holds, and where: computed once per request from plain data.

A `Grants` maps each held permission to ALL locations or a frozen set of location ids. It is a
pure value, so the policy is tested without a database, and the no-escalation rule is a subset test
between two of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Final, Literal

from permissions.catalog import ORG_WIDE, Permission


class _All(Enum):
    """Every location of the organization, present and future. An enum member, so that `scope is
    ALL` tells the type checker the other branch holds a frozenset."""

    ALL = "ALL"

    def __repr__(self) -> str:
        return "ALL"


ALL: Final = _All.ALL
Scope = Literal[_All.ALL] | frozenset[str]


@dataclass(frozen=True)
class GroupGrant:
    """One permission group as the grants computation needs it."""

    permissions: frozenset[Permission]
    all_locations: bool
    location_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Grants:
    held: Mapping[Permission, Scope] = field(default_factory=dict)

    def scope(self, permission: Permission) -> Scope:
        """Where `permission` is held: ALL, or a (possibly empty) set of location ids."""
        return self.held.get(permission, frozenset())

    def has(self, permission: Permission, location_id: str | None = None) -> bool:
        """Held at `location_id`; without one: held org-wide (ALL)."""
        scope = self.scope(permission)
        if scope is ALL:
            return True
        return location_id is not None and str(location_id) in scope

    def has_anywhere(self, permission: Permission) -> bool:
        scope = self.scope(permission)
        return scope is ALL or bool(scope)

    def allows(self, permission: Permission) -> bool:
        """Whether a field needing `permission` may be called (`permissions/classes.py` `requires`, and
        again under the grant lock): an org-wide one held org-wide, any other held somewhere (its rows
        are then scoped)."""
        return self.has(permission) if permission in ORG_WIDE else self.has_anywhere(permission)

    def has_everywhere(self, permission: Permission, location_ids: Iterable[str]) -> bool:
        """Held at each of `location_ids` (used for "every one of the target's sites")."""
        scope = self.scope(permission)
        if scope is ALL:
            return True
        return all(str(loc) in scope for loc in location_ids)

    def locations(self, permission: Permission) -> frozenset[str] | None:
        """The location ids where held, or None for ALL: ready to use as a row filter."""
        scope = self.scope(permission)
        return None if scope is ALL else scope

    def excess_over(self, other: Grants) -> dict[Permission, Scope]:
        """What self holds that `other` does not: the grants an actor lacking them may not give."""
        excess: dict[Permission, Scope] = {}
        for permission, scope in self.held.items():
            theirs = other.scope(permission)
            if theirs is ALL:
                continue
            if scope is ALL:
                excess[permission] = ALL
                continue
            missing = scope - theirs
            if missing:
                excess[permission] = frozenset(missing)
        return excess

    def added_since(self, before: Grants) -> Grants:
        """The grants self holds that `before` did not."""
        return Grants(self.excess_over(before))

    def to_another(self) -> Grants:
        """These grants as they reach for another user than the actor (permissions/escalation.py): a
        permission whose reach is the holder's own rows reaches rows the actor's own does not, so it
        counts as its full counterpart (CLIENTS_READ_OWN there as CLIENTS_READ)."""
        held: dict[Permission, Scope] = dict(self.held)
        for own, full in OWN_COUNTERPARTS.items():
            scope = held.pop(own, None)
            if scope is not None:
                held[full] = _union(held.get(full, frozenset()), scope)
        return Grants(held)


# Permissions whose reach depends on who holds them, with the permission that reaches the same rows
# whoever holds it: "My Clients" are the clients whose primary provider is the viewer.
OWN_COUNTERPARTS: dict[Permission, Permission] = {Permission.CLIENTS_READ_OWN: Permission.CLIENTS_READ}


def counted_as(permission: Permission) -> frozenset[Permission]:
    """The permissions whose grant counts as `permission` for another user (`to_another`): itself, and
    for CLIENTS_READ, CLIENTS_READ_OWN. What an excess named `permission` may have been asked as."""
    return frozenset({permission, *(own for own, full in OWN_COUNTERPARTS.items() if full is permission)})


NO_GRANTS = Grants()


# Every admin's grants are the same value: built once, read-only, shared by every request.
_ADMIN_GRANTS = Grants(MappingProxyType({p: ALL for p in Permission}))


def admin_grants() -> Grants:
    """An organization admin holds every permission at ALL locations."""
    return _ADMIN_GRANTS


def compute_grants(
    *,
    is_admin: bool,
    all_locations: bool,
    site_ids: Iterable[str],
    groups: Iterable[GroupGrant],
) -> Grants:
    """docs/architecture.md "Principals and grants": sites ∩ group scope per location permission; org-wide only via
    unrestricted groups.

    `site_ids` must already be limited to active locations, and a principal who may not act
    (inactive, expired, no access) must not get here: the caller returns NO_GRANTS for them.
    """
    if is_admin:
        return admin_grants()
    sites: Scope = ALL if all_locations else frozenset(str(s) for s in site_ids)
    held: dict[Permission, Scope] = {}
    for group in groups:
        group_scope: Scope = ALL if group.all_locations else frozenset(str(s) for s in group.location_ids)
        where = _intersect(sites, group_scope)
        for permission in group.permissions:
            if permission in ORG_WIDE:
                if group.all_locations:
                    held[permission] = ALL
                continue
            held[permission] = _union(held.get(permission, frozenset()), where)
    return Grants({p: s for p, s in held.items() if s is ALL or s})


@dataclass(frozen=True)
class GrantSources:
    """What a user's grants are computed from: the admin flag, allLocations, its sites and its
    permission groups by id. No-escalation compares the grants of two of these (before and after)."""

    is_admin: bool
    all_locations: bool
    sites: frozenset[str]
    groups: Mapping[str, GroupGrant]

    def grants(self) -> Grants:
        return compute_grants(
            is_admin=self.is_admin, all_locations=self.all_locations, site_ids=self.sites, groups=self.groups.values()
        )

    def reach(self) -> Scope:
        """The locations the user works at, as a principal's `sites`: every one for an admin or an
        all-locations user, else its own."""
        return ALL if self.is_admin or self.all_locations else self.sites


# What no API token ever holds, whatever its integration lists: a token never mints, widens or
# revokes tokens or integrations.
NEVER_FOR_TOKENS = frozenset({Permission.INTEGRATIONS_MANAGE})


def integration_grants(permissions: Iterable[Permission], all_locations: bool, location_ids: Iterable[str]) -> Grants:
    """An integration's grants, by the users' rule: its permissions as one unrestricted group, at its
    locations (active ones only, given by the caller), org-wide ones org-wide; never NEVER_FOR_TOKENS."""
    group = GroupGrant(permissions=frozenset(permissions) - NEVER_FOR_TOKENS, all_locations=True)
    return compute_grants(is_admin=False, all_locations=all_locations, site_ids=location_ids, groups=[group])


NO_SOURCES = GrantSources(is_admin=False, all_locations=False, sites=frozenset(), groups={})


def _intersect(a: Scope, b: Scope) -> Scope:
    if a is ALL:
        return b
    if b is ALL:
        return a
    return a & b


def _union(a: Scope, b: Scope) -> Scope:
    if a is ALL or b is ALL:
        return ALL
    return a | b
