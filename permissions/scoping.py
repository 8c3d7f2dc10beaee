"""Scoping rules: which rows a principal may see (docs/architecture.md "Principals and grants").

Each kind of row has one pair: a predicate, for a row already loaded, and a row filter, a Tortoise
`Q` over the kind's model, for rows still in the database. The two state the same rule, so a page,
a count, a DataLoader and a one-row lookup agree; tests/permissions/test_scoping_pairs.py checks
that they do over a world of principals and rows, on both backends. Every path to a kind (root
queries, nested fields, DataLoaders, mutation lookups) goes through one of the two, so out-of-scope
rows look exactly like missing ones.

| kind     | predicate          | row filter    | visible when                                              |
|----------|--------------------|---------------|-----------------------------------------------------------|
| location | `can_see_location` | `location_q`  | in the principal's sites, or any with LOCATIONS_MANAGE    |
| user     | `can_see_user`     | `user_q`      | itself, or USERS_READ at any of the user's sites          |
| provider | `can_see_provider` | `provider_q`  | PROVIDERS_READ at any of the provider's user's sites      |
| client   | `can_see_client`   | `client_q`    | CLIENTS_READ at its location, or CLIENTS_READ_OWN there   |
|          |                    |               | when its primary provider is the viewer; for a portal     |
|          |                    |               | account, the clients it is linked to                      |

A row of another organization is never visible: the filters always say so, and the predicates do
when given the row's `organization_id` (callers that load rows by id without an organization
filter pass it). "A user works at a scope" is shared by the user and provider rules:
`works_at` / `works_at_q` (an all-locations user works everywhere).

Beside the pairs: `can_change_user` (changing a user needs the permission at every one of its
sites), `can_see_groups`, `group_member_q` and `can_see_client_invitations` (guarded parts, not rows
of a kind).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise.expressions import Q, Subquery

from models.users import UserLocation
from permissions.catalog import Permission
from permissions.grants import ALL, Grants, Scope
from permissions.principal import Principal


def _in_organization(principal: Principal, organization_id: str | None) -> bool:
    """Another organization's row is never visible, whatever the grants say (ALL means all of the
    principal's own locations). None: the caller has already limited the rows to its organization."""
    return organization_id is None or str(organization_id) == principal.organization_id


def _organization_q(principal: Principal) -> Q:
    return Q(organization_id=principal.organization.id)


def _nothing() -> Q:
    """A filter no row passes (a fresh one each time: a Q can be negated in place)."""
    return Q(id__in=[])


# --------------------------------------------------------------------------- where a user works


def works_at(scope: Scope, user_all_locations: bool, user_site_ids: Iterable[str]) -> bool:
    """Whether a user working at `user_site_ids` (everywhere when `user_all_locations`) works at one
    of the locations of `scope`: the building block of the user and provider rules."""
    if scope is ALL:
        return True
    if not scope:
        return False
    return user_all_locations or any(str(s) in scope for s in user_site_ids)


def works_at_q(scope: Scope, via: str | None = None) -> Q:
    """`works_at` as a Q: over User itself, or over a model whose foreign key `via` is the user
    (`via="user"` for Provider). A subquery, not a join, so a user at several sites is one row.
    For ALL it is the empty Q, which only AND may combine (in an OR it would drop out)."""
    if scope is ALL:
        return Q()
    if not scope:
        return _nothing()
    everywhere = f"{via}__all_locations" if via else "all_locations"
    user_id = f"{via}_id" if via else "id"
    at_sites = Subquery(UserLocation.filter(location_id__in=sorted(scope)).values("user_id"))
    anywhere: dict[str, Any] = {everywhere: True}
    at_one: dict[str, Any] = {f"{user_id}__in": at_sites}
    return Q(Q(**anywhere), Q(**at_one), join_type=Q.OR)


# --------------------------------------------------------------------------- locations


def _reachable_sites(principal: Principal) -> frozenset[str] | None:
    """The location ids the principal reaches, or None for every location of its organization."""
    if principal.grants.has(Permission.LOCATIONS_MANAGE) or principal.sites is ALL:
        return None
    return principal.sites


def can_see_location(principal: Principal, location_id: str, *, organization_id: str | None = None) -> bool:
    """A location is visible if in the principal's sites, or any with LOCATIONS_MANAGE."""
    if not _in_organization(principal, organization_id):
        return False
    sites = _reachable_sites(principal)
    return sites is None or str(location_id) in sites


def location_q(principal: Principal) -> Q:
    """`can_see_location` as a row filter over models.organization.Location."""
    sites = _reachable_sites(principal)
    if sites is None:
        return _organization_q(principal)
    return _organization_q(principal) & Q(id__in=sorted(sites))


# --------------------------------------------------------------------------- users


def can_see_user(
    principal: Principal,
    user_id: str,
    user_all_locations: bool,
    user_site_ids: Iterable[str],
    *,
    organization_id: str | None = None,
) -> bool:
    """A user is visible to itself, and to holders of USERS_READ at any of the user's sites (at
    every location where held, for a user working everywhere)."""
    if not _in_organization(principal, organization_id):
        return False
    if principal.user is not None and str(principal.user.id) == str(user_id):
        return True
    return works_at(principal.grants.scope(Permission.USERS_READ), user_all_locations, user_site_ids)


def user_q(principal: Principal) -> Q:
    """`can_see_user` as a row filter over models.users.User (the `users` search, group members)."""
    scope = principal.grants.scope(Permission.USERS_READ)
    if scope is ALL:
        return _organization_q(principal)
    itself = Q(id=principal.user.id) if principal.user is not None else _nothing()
    return _organization_q(principal) & Q(itself, works_at_q(scope), join_type=Q.OR)


def can_change_user(
    grants: Grants, permission: Permission, user_all_locations: bool, user_site_ids: Iterable[str]
) -> bool:
    """Changing a user needs `permission` at EVERY one of its sites (at ALL for an all-locations
    user), and somewhere at least (a user with no site is not a free-for-all). The admin-only rule
    for admin targets is checked beside it by the caller."""
    if user_all_locations:
        return grants.has(permission)
    return grants.has_anywhere(permission) and grants.has_everywhere(permission, user_site_ids)


# --------------------------------------------------------------------------- providers


def can_see_provider(
    principal: Principal,
    user_all_locations: bool,
    user_site_ids: Iterable[str],
    *,
    organization_id: str | None = None,
) -> bool:
    """A provider is visible with PROVIDERS_READ at any of its user's sites.

    (Its public fields also show through a client the viewer may see: that path returns the
    provider as the client's `primaryProvider`, with `user` and `billing` guarded as usual.)
    """
    if not _in_organization(principal, organization_id):
        return False
    return works_at(principal.grants.scope(Permission.PROVIDERS_READ), user_all_locations, user_site_ids)


def provider_q(principal: Principal) -> Q:
    """`can_see_provider` as a row filter over models.providers.Provider (the `providers` list and
    the mutations' lookups)."""
    return _organization_q(principal) & works_at_q(principal.grants.scope(Permission.PROVIDERS_READ), via="user")


# --------------------------------------------------------------------------- clients


def can_see_client(
    principal: Principal,
    location_id: str,
    primary_provider_user_id: str | None,
    *,
    organization_id: str | None = None,
    client_id: str | None = None,
) -> bool:
    """A client is visible with CLIENTS_READ at its location, or with CLIENTS_READ_OWN there when
    its primary provider is the viewer ("My Clients"). A portal account sees the clients it is
    linked to (`client_id` says which client the row is; without it, none)."""
    if not _in_organization(principal, organization_id):
        return False
    if principal.is_portal:
        return client_id is not None and str(client_id) in principal.client_ids
    if principal.grants.has(Permission.CLIENTS_READ, str(location_id)):
        return True
    return (
        principal.user is not None
        and primary_provider_user_id is not None
        and str(primary_provider_user_id) == str(principal.user.id)
        and principal.grants.has(Permission.CLIENTS_READ_OWN, str(location_id))
    )


def client_q(principal: Principal) -> Q:
    """`can_see_client` as a row filter over models.clients.Client: an impossible one when nothing
    is readable."""
    if principal.is_portal:
        return _organization_q(principal) & Q(id__in=sorted(principal.client_ids))
    read = principal.grants.scope(Permission.CLIENTS_READ)
    if read is ALL:
        return _organization_q(principal)
    clauses = [Q(location_id__in=sorted(read))] if read else []
    own = principal.grants.scope(Permission.CLIENTS_READ_OWN)
    if principal.user is not None and (own is ALL or own):
        mine = Q(primary_provider__user_id=principal.user.id)
        clauses.append(mine if own is ALL else mine & Q(location_id__in=sorted(own)))
    if not clauses:
        return _organization_q(principal) & _nothing()
    return _organization_q(principal) & Q(*clauses, join_type=Q.OR)


# --------------------------------------------------------------------------- guarded parts


def can_see_groups(principal: Principal) -> bool:
    """Permission groups are visible to group managers and to those who assign groups to users
    (USERS_MANAGE somewhere); anyone sees the groups they belong to themselves."""
    return principal.grants.has(Permission.GROUPS_MANAGE) or principal.grants.has_anywhere(Permission.USERS_MANAGE)


def group_member_q(principal: Principal) -> Q:
    """The members of a group the principal may see listed or counted (`PermissionGroup.members`,
    `memberCount`): users it may see (`user_q`) and, unless it may see groups, only itself, since
    another user's memberships show only to those who may see groups (`User.permissionGroups`, the
    `users` filter by group); a group reached as one's own would otherwise list who shares it."""
    if can_see_groups(principal):
        return user_q(principal)
    if principal.user is None:
        return _organization_q(principal) & _nothing()
    return _organization_q(principal) & Q(id=principal.user.id)


def can_see_client_invitations(principal: Principal, location_id: str) -> bool:
    """A client's portal invitations (guarded): CLIENT_PORTAL_MANAGE at the client's location."""
    return principal.grants.has(Permission.CLIENT_PORTAL_MANAGE, str(location_id))
