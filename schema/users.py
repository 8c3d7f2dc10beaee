"""Staff users: the User type (Avaros "Manage Users", Onvio access), its inputs, payloads and root fields.

Every relation of User goes through a per-request DataLoader (schema/relations.py) and the scoping
rules: `locations` shows only locations the viewer may see, `provider` only when
`can_see_provider`. `users` filters in SQL (`permissions.scoping.user_q`) and pages by keyset on
(last name, first name, id); a page of 50 with locations, groups and effective permissions costs a
fixed number of statements (tests/api/test_users_statements.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

import models.users as models
from models.enums import AccessStatus, AccountStatus, BillingRole, EmailDelivery, UserType
from permissions.catalog import Permission
from permissions.classes import GrantEffect, requires, signs_in
from permissions.grants import ALL, Grants
from permissions.principal import Principal
from permissions.scoping import can_see_groups, can_see_location, can_see_provider
from resolvers import access, user_input, user_queries
from resolvers import users as user_writes
from resolvers.errors import ChangeWarning
from resolvers.inputs import from_input
from schema import relations
from schema.errors import Payload, UserError, UserWarning
from schema.info import Info
from schema.limits import CATALOGUE_ROWS, OWN_ROWS, at_most
from schema.organization import Location
from schema.pagination import Connection, SortKey, keyset_page
from schema.reads import Node, reading, reads

if TYPE_CHECKING:
    from schema.auth import LoginPayload
    from schema.groups import PermissionGroup
    from schema.providers import Provider

PermissionGroupNode = Annotated["PermissionGroup", strawberry.lazy("schema.groups")]
ProviderNode = Annotated["Provider", strawberry.lazy("schema.providers")]
LoginPayloadNode = Annotated["LoginPayload", strawberry.lazy("schema.auth")]

USER_SORT = (SortKey("last_name_key"), SortKey("first_name"), SortKey("id"))


def _visible_location(principal: Principal, row: Any) -> bool:
    """`can_see_location` for a row a loader fetched by id alone (so its organization is checked too)."""
    return can_see_location(principal, str(row.id), organization_id=str(row.organization_id))


@strawberry.type
class EffectivePermission:
    permission: Permission
    all_locations: bool
    location_ids: strawberry.Private[list[str]]

    @strawberry.field(
        **at_most(
            OWN_ROWS, {"description": "Where held, when allLocations is false (only locations the viewer may see)."}
        )
    )
    async def locations(self, info: Info) -> list[Location]:
        principal = await info.context.principal()
        rows = await info.context.loaders.of(relations.locations_by_id).load_many(self.location_ids)
        return [r for r in rows if r is not None and principal and _visible_location(principal, r)]


def effective_permissions(grants: Grants, visible: Callable[[str], bool] | None = None) -> list[EffectivePermission]:
    """A Grants value as the API shows it, in catalogue order; with `visible`, held only at the
    locations it accepts (another user's, seen by a viewer: a permission held only at a location the
    viewer may not see is not shown at all, or it would tell where the user works)."""
    result = []
    for permission in Permission:
        scope = grants.scope(permission)
        if scope is ALL:
            result.append(EffectivePermission(permission=permission, all_locations=True, location_ids=[]))
        elif where := sorted(lid for lid in scope if visible is None or visible(lid)):
            result.append(EffectivePermission(permission=permission, all_locations=False, location_ids=where))
    return result


def account_status(user: Any, now: datetime, locked: bool = False) -> AccountStatus:
    """Computed at read time: an expiry in the past shows (and denies) without any job."""
    if not user.is_active:
        return AccountStatus.INACTIVE
    if user.expires_at is not None and user.expires_at <= now:
        return AccountStatus.EXPIRED
    if locked:
        return AccountStatus.LOCKED
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

    @strawberry.field(metadata=reads("first_name", "last_name"))
    def display_name(self: Any) -> str:
        return self.display_name

    @strawberry.field(metadata=reads("pin_hash"))
    def has_pin(self: Any) -> bool:
        return self.pin_hash is not None

    @strawberry.field(description="INACTIVE, EXPIRED (expiresAt passed), LOCKED (login throttled now) or ACTIVE.")
    async def status(self: Any, info: Info) -> AccountStatus:
        now = info.context.now()
        if not self.is_active or (self.expires_at is not None and self.expires_at <= now):
            return account_status(self, now)
        locked = await info.context.loaders.of(relations.user_locked).load(
            f"{self.organization_id}|{self.username_key}"
        )
        return account_status(self, now, locked)

    @strawberry.field
    async def last_login_at(self: Any, info: Info) -> datetime | None:
        return await info.context.loaders.of(relations.user_last_login).load(str(self.id))

    @strawberry.field(**at_most(OWN_ROWS, {"description": "The user's sites (those the viewer may see)."}))
    async def locations(self: Any, info: Info) -> list[Location]:
        principal = await info.context.principal()
        rows = await info.context.loaders.of(relations.user_locations).load(str(self.id))
        return [r for r in rows if principal and _visible_location(principal, r)]

    @strawberry.field(
        **at_most(OWN_ROWS, {"description": "The user's groups: one's own, or anyone's for those who may see groups."})
    )
    async def permission_groups(self: Any, info: Info) -> list[PermissionGroupNode]:
        # `viewer.user` is readable by a session that must change its password first: its own groups too.
        principal = await info.context.require_principal(allow_reset=True)
        if not can_see_groups(principal) and principal.actor_id != str(self.id):
            return []
        return await info.context.loaders.of(relations.user_groups).load(str(self.id))

    @strawberry.field(
        **at_most(
            CATALOGUE_ROWS, {"description": "What the user's groups, sites and administration access give, where."}
        )
    )
    async def effective_permissions(self: Any, info: Info) -> list[EffectivePermission]:
        principal = await info.context.principal()
        key = f"{self.organization_id}|{self.id}"
        grants = await info.context.loaders.of(relations.user_grants).load(key)
        return effective_permissions(grants, lambda lid: principal is not None and can_see_location(principal, lid))

    @strawberry.field(description="The provider profile, when the viewer may see it (PROVIDERS_READ at a site).")
    async def provider(self: Any, info: Info) -> ProviderNode | None:
        principal = await info.context.principal()
        row = await info.context.loaders.of(relations.user_providers).load(str(self.id))
        if row is None or principal is None:
            return None
        site_ids = await info.context.loaders.of(relations.user_site_ids).load(str(self.id))
        visible = can_see_provider(principal, self.all_locations, site_ids, organization_id=str(self.organization_id))
        return row if visible else None


UserConnection = Connection[User]
# A user's narrow read (schema/reads.py): its key, the sort keys, and what a list of staff shows.
USER_NODE = Node(
    User,
    models.User,
    (
        *("id", "organization_id", *(key.field for key in USER_SORT)),
        *("last_name", "username", "type", "email", "phone", "is_admin", "is_active", "access_status"),
    ),
)


# --------------------------------------------------------------------------- inputs


@strawberry.input(description="Avaros step 1.")
class LoginInformationInput:
    username: str
    password: str | None = strawberry.field(
        default=None, description="Omit to let the user set it from a registration email."
    )
    pin: str | None = strawberry.field(default=None, description="4 to 8 digits.")
    expires_at: datetime | None = strawberry.field(default=None, description="Temporary staff.")
    require_password_reset: bool | None = True
    is_admin: bool | None = False


@strawberry.input(description="Avaros step 2.")
class ContactInformationInput(user_input.ContactData):
    """`ContactData`'s fields, declared once there (same types, defaults, no descriptions), so the
    input and what `createUser` checks cannot drift apart; `from_input` rebuilds it as one."""


@strawberry.input(description="Avaros step 3.")
class SiteSelectionInput:
    all_locations: bool | None = False
    location_ids: list[strawberry.ID] | None = strawberry.field(default_factory=list)


@strawberry.input(description="Avaros step 4; creates the provider profile.")
class BillingInformationInput:
    provincial_billing_number: str | None = None
    group_billing_number: str | None = None
    billing_role: BillingRole | None = BillingRole.BILLING_PROVIDER


@strawberry.input
class CreateUserInput:
    login: LoginInformationInput
    contact: ContactInformationInput
    sites: SiteSelectionInput
    billing: BillingInformationInput | None = None
    permission_group_ids: list[strawberry.ID] | None = strawberry.field(default_factory=list)
    access_enabled: bool | None = True
    registration_email: EmailDelivery | None = EmailDelivery.SEND_NOW


@strawberry.input
class UpdateUserInput(user_input.UpdateUserData):
    """`UpdateUserData`'s fields, declared once there; only what the API types differently (ids,
    nested inputs) or describes is declared again here, in the same place in the field order."""

    id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=strawberry.UNSET, description="When given and stale: CONFLICT."
    )
    expires_at: datetime | None = strawberry.field(default=strawberry.UNSET, description="null clears.")
    sites: SiteSelectionInput | None = strawberry.UNSET
    permission_group_ids: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.input
class UserFilter:
    search: str | None = strawberry.field(
        default=None, description="Prefix of first name, last name, username or email."
    )
    last_name: str | None = strawberry.field(default=None, description="Prefix.")
    username: str | None = strawberry.field(default=None, description="Exact, case-insensitive.")
    provider_number: str | None = strawberry.field(
        default=None, description="Exact provincial billing number; needs BILLING_READ."
    )
    is_active: bool | None = None
    status: AccountStatus | None = None
    type: UserType | None = None
    location_id: strawberry.ID | None = None
    permission_group_id: strawberry.ID | None = strawberry.field(
        default=None, description="Members of this group; needs GROUPS_MANAGE or USERS_MANAGE (who may see groups)."
    )


@strawberry.input
class SetUserActiveInput:
    id: strawberry.ID
    active: bool


@strawberry.input(description="Onvio: one or many staff at once.")
class EnableAccessInput:
    user_ids: list[strawberry.ID]
    registration_email: EmailDelivery | None = EmailDelivery.SEND_NOW


@strawberry.input
class DisableAccessInput:
    user_ids: list[strawberry.ID]


@strawberry.input
class SendRegistrationEmailInput:
    user_ids: list[strawberry.ID]


@strawberry.input
class ResetCredentialsInput:
    id: strawberry.ID
    new_password: str | None = strawberry.field(default=None, description="Omit: send a password reset email instead.")
    new_pin: str | None = None
    require_password_reset: bool | None = True


@strawberry.input
class UpdateMyProfileInput(user_input.ProfileData):
    """`ProfileData`'s fields, declared once there, with the descriptions callers read."""

    pin: str | None = strawberry.field(default=strawberry.UNSET, description="Set or change one's own PIN.")
    current_password: str | None = strawberry.field(
        default=strawberry.UNSET, description="Needed to change the email or the PIN (a session is not enough)."
    )


@strawberry.input
class AcceptStaffInvitationInput:
    token: str
    password: str
    pin: str | None = None


@strawberry.type
class UserPayload(Payload, result="user"):
    user: User | None = None


@strawberry.type
class UsersPayload(Payload):
    users: list[User] = strawberry.field(default_factory=list)
    errors: list[UserError] = strawberry.field(default_factory=list)
    warnings: list[UserWarning] = strawberry.field(
        default_factory=list,
        description="enableAccess: users who got no registration email because they already have a password, "
        "and users in no permission group (they can log in but do nothing else).",
    )

    @classmethod
    def of(cls, result: Any, errors: list[UserError]) -> UsersPayload:
        return cls(users=result or [], errors=errors)


# --------------------------------------------------------------------------- roots


@strawberry.type
class Query:
    @strawberry.field(
        **requires(
            Permission.USERS_READ,
            description="Staff users the viewer may see (at its USERS_READ locations, and itself), "
            "by last name, first name.",
        )
    )
    async def users(
        self, info: Info, filter: UserFilter | None = None, first: int | None = 50, after: str | None = None
    ) -> UserConnection:
        principal = await info.context.require_principal()
        data = from_input(filter, user_queries.UserFilterData) if filter is not None else None
        query = user_queries.users_query(info.context, principal, data)
        rows = reading(info, (info.field_name, "edges", "node"), USER_NODE)(query)
        return await keyset_page(query, USER_SORT, first, after, rows)

    @strawberry.field(**requires(Permission.USERS_READ, description="One user; null when out of scope or unknown."))
    async def user(self, info: Info, id: strawberry.ID) -> User | None:
        return await user_queries.get_user(info.context, id)  # type: ignore[return-value]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        **signs_in("Open a registration (or password reset) link: set the password and PIN, get a session.")
    )
    async def accept_staff_invitation(self, info: Info, input: AcceptStaffInvitationInput) -> LoginPayloadNode:
        from schema.auth import LoginPayload

        return await LoginPayload.run(
            info, "auth.invitation_accept", access.accept_staff_invitation, input.token, input.password, input.pin
        )

    update_my_profile = strawberry.mutation(
        resolver=UserPayload.resolver(UpdateMyProfileInput, "user.profile_update", user_writes.update_my_profile),
        **requires(
            description="One's own contact details and PIN (no permission needed).", effects=(GrantEffect.NONE,)
        ),
    )
    create_user = strawberry.mutation(
        resolver=UserPayload.resolver(CreateUserInput, "user.create", user_writes.create_user),
        **requires(
            Permission.USERS_MANAGE,
            description="Add a user (login, contact, sites, billing). Needs USERS_MANAGE at every selected "
            "location (USERS_ACCESS_MANAGE too when access is enabled); grants no more than the viewer holds.",
            effects=(GrantEffect.ADDS,),
        ),
    )
    update_user = strawberry.mutation(
        resolver=UserPayload.resolver(UpdateUserInput, "user.update", user_writes.update_user),
        **requires(
            Permission.USERS_MANAGE,
            description="Change a user. Needs USERS_MANAGE at every one of the user's locations; an admin only "
            "by an admin; stale expectedVersion: CONFLICT. A new email voids the user's outstanding registration or "
            "reset links (send them again).",
            effects=(GrantEffect.ADDS, GrantEffect.RESTORES, GrantEffect.HANDS_OVER),
        ),
    )
    set_user_active = strawberry.mutation(
        resolver=UserPayload.resolver(
            SetUserActiveInput, "user.set_active", user_writes.set_user_active, "id", "active"
        ),
        **requires(
            Permission.USERS_MANAGE,
            description="Deactivate (sessions end at once) or reactivate a user.",
            effects=(GrantEffect.RESTORES,),
        ),
    )

    @strawberry.mutation(
        **requires(
            Permission.USERS_ACCESS_MANAGE,
            description="Enable login access for one or many users (registration email now or later). Needs "
            "USERS_ACCESS_MANAGE at every target's locations; the whole batch fails past the seat limit.",
            effects=(GrantEffect.RESTORES, GrantEffect.HANDS_OVER),
        )
    )
    async def enable_access(self, info: Info, input: EnableAccessInput) -> UsersPayload:
        warnings: list[ChangeWarning] = []
        delivery = input.registration_email or EmailDelivery.SEND_NOW
        payload = await UsersPayload.run(
            info, "user.access_enable", access.enable_access, list(input.user_ids), delivery, warnings
        )
        if not payload.errors:
            payload.warnings = [UserWarning.of(w) for w in warnings]
        return payload

    disable_access = strawberry.mutation(
        resolver=UsersPayload.resolver(DisableAccessInput, "user.access_disable", access.disable_access, "user_ids"),
        **requires(
            Permission.USERS_ACCESS_MANAGE,
            description="Disable login access; the users' sessions end.",
            effects=(GrantEffect.NONE,),
        ),
    )
    send_registration_email = strawberry.mutation(
        resolver=UsersPayload.resolver(
            SendRegistrationEmailInput, "user.registration_email", access.send_registration_email, "user_ids"
        ),
        **requires(
            Permission.USERS_ACCESS_MANAGE,
            description="(Re)send the registration email to invited users; the previous link stops working.",
            effects=(GrantEffect.HANDS_OVER,),
        ),
    )
    reset_credentials = strawberry.mutation(
        resolver=UserPayload.resolver(ResetCredentialsInput, "user.credentials_reset", user_writes.reset_credentials),
        **requires(
            Permission.USERS_CREDENTIALS_RESET,
            description="Set a user's password and/or PIN, or email a reset link; the user's sessions end and a new "
            "password lifts a login lock.",
            effects=(GrantEffect.HANDS_OVER,),
        ),
    )
