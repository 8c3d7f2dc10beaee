"""Scoping rules: which rows a principal may see. One function per kind of object, used by every path
to it (root queries, nested fields, DataLoaders), so out-of-scope rows look exactly like missing ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.expressions import Q

from permissions.catalog import Permission
from permissions.grants import ALL, Grants
from permissions.principal import Principal


def location_filter(principal: Principal) -> frozenset[str] | None:
    """Location ids the principal may see, or None for every location of its organization.

    Visible: in the principal's sites, or any location with LOCATIONS_MANAGE.
    """
    if principal.grants.has(Permission.LOCATIONS_MANAGE) or principal.sites is ALL:
        return None
    return principal.sites  # type: ignore[return-value]


def can_see_location(principal: Principal, location_id: str) -> bool:
    allowed = location_filter(principal)
    return allowed is None or str(location_id) in allowed


def can_see_user(principal: Principal, user_id: str, user_all_locations: bool, user_site_ids: Iterable[str]) -> bool:
    """A user is visible to itself, and to holders of USERS_READ at any of the user's sites."""
    if principal.user is not None and str(principal.user.id) == str(user_id):
        return True
    scope = principal.grants.scope(Permission.USERS_READ)
    if scope is ALL:
        return True
    if not scope:
        return False
    if user_all_locations:
        # Works everywhere, so at every location where the viewer holds USERS_READ.
        return True
    return any(str(s) in scope for s in user_site_ids)  # type: ignore[operator]


def can_see_provider(principal: Principal, user_all_locations: bool, user_site_ids: Iterable[str]) -> bool:
    """A provider is visible with PROVIDERS_READ at any of its user's sites.

    (Its public fields also show through a client the viewer may see: that path returns the
    provider as the client's `primaryProvider`, with `user` and `billing` guarded as usual.)
    """
    scope = principal.grants.scope(Permission.PROVIDERS_READ)
    if scope is ALL:
        return True
    if not scope:
        return False
    if user_all_locations:
        return True
    return any(str(s) in scope for s in user_site_ids)  # type: ignore[operator]


def can_change_user(
    grants: Grants, permission: Permission, user_all_locations: bool, user_site_ids: Iterable[str]
) -> bool:
    """Changing a user needs `permission` at EVERY one of its sites (at ALL for an all-locations
    user), and somewhere at least (a user with no site is not a free-for-all). The admin-only rule
    for admin targets is checked beside it by the caller."""
    if user_all_locations:
        return grants.has(permission)
    return grants.has_anywhere(permission) and grants.has_everywhere(permission, user_site_ids)


def provider_q(principal: Principal) -> Q:
    """`can_see_provider` as a row filter over models.providers.Provider (the `providers` list and
    the mutations' lookups): PROVIDERS_READ at any of the provider's user's sites. A subquery, not a
    join, so a provider working at several visible sites is one row."""
    from tortoise.expressions import Subquery

    from models.users import UserLocation

    scope = principal.grants.scope(Permission.PROVIDERS_READ)
    q = Q(organization_id=principal.organization.id)
    if scope is ALL:
        return q
    if not scope:
        return q & Q(id__in=[])
    at_sites = Subquery(UserLocation.filter(location_id__in=sorted(scope)).values("user_id"))  # type: ignore[arg-type]
    return q & Q(Q(user__all_locations=True), Q(user_id__in=at_sites), join_type=Q.OR)


def client_q(principal: Principal) -> Q:
    """The row filter for clients: CLIENTS_READ at the client's location, or CLIENTS_READ_OWN there
    when the client's primary provider is the viewer. A Q over the Client model; an impossible one
    when nothing is readable. Portal accounts (later) see the clients they are linked to."""
    read = principal.grants.scope(Permission.CLIENTS_READ)
    own = principal.grants.scope(Permission.CLIENTS_READ_OWN)
    clauses: list[Q] = []
    if read is ALL:
        clauses.append(Q())
    elif read:
        clauses.append(Q(location_id__in=sorted(read)))  # type: ignore[arg-type]
    if principal.user is not None and (own is ALL or own):
        mine = Q(primary_provider__user_id=principal.user.id)
        clauses.append(mine if own is ALL else mine & Q(location_id__in=sorted(own)))  # type: ignore[arg-type]
    q = Q(organization_id=principal.organization.id)
    if not clauses:
        return q & Q(id__in=[])
    if any(not c.children and not c.filters for c in clauses):
        return q
    return q & Q(*clauses, join_type=Q.OR)


def can_see_client(principal: Principal, location_id: str, primary_provider_user_id: str | None) -> bool:
    """The same rule as `client_q`, for one client already loaded."""
    if principal.grants.has(Permission.CLIENTS_READ, str(location_id)):
        return True
    return (
        principal.user is not None
        and primary_provider_user_id is not None
        and str(primary_provider_user_id) == str(principal.user.id)
        and principal.grants.has(Permission.CLIENTS_READ_OWN, str(location_id))
    )


def can_see_groups(principal: Principal) -> bool:
    """Permission groups are visible to group managers and to those who assign groups to users
    (USERS_MANAGE somewhere); anyone sees the groups they belong to themselves."""
    return principal.grants.has(Permission.GROUPS_MANAGE) or principal.grants.has_anywhere(Permission.USERS_MANAGE)


def can_see_client_invitations(principal: Principal, location_id: str) -> bool:
    """A client's portal invitations (guarded): CLIENT_PORTAL_MANAGE at the client's location."""
    return principal.grants.has(Permission.CLIENT_PORTAL_MANAGE, str(location_id))
