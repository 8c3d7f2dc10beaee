"""Staff users: the User type (Avaros "Manage Users", Onvio access)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from models.enums import AccessStatus, AccountStatus, UserType
from permissions.catalog import Permission
from permissions.grants import ALL, Grants
from permissions.scoping import can_see_location
from schema import relations
from schema.organization import Location


@strawberry.type
class EffectivePermission:
    permission: Permission
    all_locations: bool
    location_ids: strawberry.Private[list[str]]

    @strawberry.field(description="Where held, when allLocations is false (only locations the viewer may see).")
    async def locations(self, info: Info) -> list[Location]:
        principal = await info.context.principal()
        rows = await info.context.loaders.of(relations.locations_by_id).load_many(self.location_ids)
        return [r for r in rows if r is not None and principal and can_see_location(principal, str(r.id))]


def effective_permissions(grants: Grants) -> list[EffectivePermission]:
    """A Grants value as the API shows it, in catalogue order."""
    result = []
    for permission in Permission:
        scope = grants.scope(permission)
        if scope is ALL:
            result.append(EffectivePermission(permission=permission, all_locations=True, location_ids=[]))
        elif scope:
            result.append(EffectivePermission(permission=permission, all_locations=False, location_ids=sorted(scope)))
    return result


def account_status(user: Any, now: datetime) -> AccountStatus:
    """Computed at read time: an expiry in the past shows (and denies) without any job."""
    if not user.is_active:
        return AccountStatus.INACTIVE
    if user.expires_at is not None and user.expires_at <= now:
        return AccountStatus.EXPIRED
    return AccountStatus.ACTIVE


@strawberry.type
class User:
    id: strawberry.ID
    username: str
    first_name: str
    last_name: str
    type: UserType
    email: str | None
    phone: str | None
    is_admin: bool
    is_active: bool
    expires_at: datetime | None
    password_reset_required: bool
    access_status: AccessStatus
    registration_email_sent_at: datetime | None
    all_locations: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    def display_name(self: Any) -> str:
        return self.display_name

    @strawberry.field
    def has_pin(self: Any) -> bool:
        return self.pin_hash is not None

    @strawberry.field
    def status(self: Any, info: Info) -> AccountStatus:
        return account_status(self, info.context.now())

    @strawberry.field
    async def last_login_at(self: Any, info: Info) -> datetime | None:
        return await info.context.loaders.of(relations.user_last_login).load(str(self.id))

    @strawberry.field(description="The user's sites (those the viewer may see).")
    async def locations(self: Any, info: Info) -> list[Location]:
        principal = await info.context.principal()
        rows = await info.context.loaders.of(relations.user_locations).load(str(self.id))
        return [r for r in rows if principal and can_see_location(principal, str(r.id))]

    @strawberry.field
    async def effective_permissions(self: Any, info: Info) -> list[EffectivePermission]:
        return effective_permissions(await info.context.loaders.of(relations.user_grants).load(str(self.id)))
