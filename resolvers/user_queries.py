"""Reading staff users (article 000 "Manage Users"): one user, and the `users` search.

Both go through the same scoping rule as every other path to a user (docs/architecture.md "Principals and grants"): a
user is visible to
itself and to holders of USERS_READ at any of its sites. The search starts from that rule's row filter
(`permissions.scoping.user_q`), so it narrows and pages in SQL; `get_user` answers None for anything out
of scope (`can_see_user`, through `load_target`), exactly as for an id that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from models.enums import AccountStatus, UserType
from models.groups import GroupMembership
from models.keys import search_key
from models.providers import Provider
from models.sessions import LoginAttempt
from models.users import User
from permissions.catalog import Permission
from permissions.errors import forbidden
from permissions.principal import Principal
from permissions.scoping import can_see_groups, user_q, works_at_q
from resolvers.billing import normalize_billing_number
from resolvers.context import RequestContext
from resolvers.errors import InputError
from resolvers.inputs import parse_uuid, search_text
from resolvers.user_rules import at_location_q, load_target


@dataclass
class UserFilterData:
    search: str | None = None
    last_name: str | None = None
    username: str | None = None
    provider_number: str | None = None
    is_active: bool | None = None
    status: AccountStatus | None = None
    type: UserType | None = None
    location_id: str | None = None
    permission_group_id: str | None = None


def _locked_usernames(org_id: Any, now: datetime) -> Subquery:
    """The usernames login throttling holds locked right now (for the LOCKED status)."""
    now_ts = int(now.timestamp())
    return Subquery(
        LoginAttempt.filter(
            Q(organization_id=org_id),
            Q(ip_locked_until__gt=now_ts) | Q(user_locked_until__gt=now_ts),
        ).values("username_key")
    )


def _status_q(status: AccountStatus, org_id: Any, now: datetime) -> Q:
    """The users whose account status is `status` at `now` (inactive, expired, locked or active)."""
    live = Q(is_active=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if status is AccountStatus.INACTIVE:
        return Q(is_active=False)
    if status is AccountStatus.EXPIRED:
        return Q(is_active=True, expires_at__lte=now)
    locked = Q(username_key__in=_locked_usernames(org_id, now))
    if status is AccountStatus.LOCKED:
        return live & locked
    return live & ~locked


def users_query(ctx: RequestContext, principal: Principal, filter: UserFilterData | None) -> QuerySet:
    """The users the viewer may see, narrowed by `filter`, in SQL (not yet ordered or paged)."""
    query = User.filter(user_q(principal))
    if filter is None:
        return query
    org_id = principal.organization.id
    if filter.search:
        term = search_key(search_text(filter.search))
        query = query.filter(
            Q(first_name__istartswith=term)
            | Q(last_name_key__startswith=term)
            | Q(username_key__startswith=term)
            | Q(email__istartswith=term)
        )
    if filter.last_name:
        query = query.filter(last_name_key__startswith=search_key(search_text(filter.last_name)))
    if filter.username:
        query = query.filter(username_key=search_key(search_text(filter.username)))
    if filter.provider_number:
        # A guarded value: filtering on it needs BILLING_READ, and only where held (else an oracle).
        if not principal.grants.has_anywhere(Permission.BILLING_READ):
            raise forbidden("Filtering on a provider number needs the BILLING_READ permission.")
        number = normalize_billing_number(filter.provider_number)
        query = query.filter(
            works_at_q(principal.grants.scope(Permission.BILLING_READ)),
            id__in=Subquery(Provider.filter(provincial_billing_number=number).values("user_id")),
        )
    if filter.is_active is not None:
        query = query.filter(is_active=filter.is_active)
    if filter.status is not None:
        query = query.filter(_status_q(AccountStatus(filter.status), org_id, ctx.now()))
    if filter.type is not None:
        query = query.filter(type=filter.type)
    if filter.location_id is not None:
        query = query.filter(at_location_q(principal, filter.location_id))
    if filter.permission_group_id is not None:
        # Another user's groups show only to those who may see groups (`User.permissionGroups`):
        # filtering on one asks the same, so it needs the same (else an oracle on membership).
        if not can_see_groups(principal):
            raise forbidden("Filtering on a permission group needs the GROUPS_MANAGE or USERS_MANAGE permission.")
        gid = parse_uuid(filter.permission_group_id)
        query = query.filter(id__in=Subquery(GroupMembership.filter(group_id=gid).values("user_id")) if gid else [])
    return query


async def get_user(ctx: RequestContext, user_id: Any) -> User | None:
    """One user, or None when unknown, malformed, another organization's or out of scope."""
    principal = await ctx.require_principal()
    try:
        return (await load_target(principal, user_id)).user
    except InputError:
        return None
