"""Scoping rules: which rows a principal may see. One function per kind of object, used by every path
to it (root queries, nested fields, DataLoaders), so out-of-scope rows look exactly like missing ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from permissions.catalog import Permission
from permissions.grants import ALL
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
