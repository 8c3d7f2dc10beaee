"""Authentication and the viewer: login, logout, password, PIN unlock, sessions, the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from permissions.catalog import DESCRIPTIONS, ORG_WIDE, Permission
from permissions.classes import GrantEffect, requires, signs_in
from permissions.principal import PrincipalKind
from resolvers import auth, portal_auth
from schema.errors import Payload, UserError
from schema.info import Info
from schema.limits import CATALOGUE_ROWS, OWN_ROWS, at_most
from schema.organization import Organization
from schema.users import EffectivePermission, User, effective_permissions

if TYPE_CHECKING:
    from schema.integrations import Integration
    from schema.portal import PortalAccount


@strawberry.type
class PermissionInfo:
    permission: Permission
    description: str
    org_wide: bool


@strawberry.type
class Viewer:
    kind: PrincipalKind
    user: User | None
    organization: Organization

    @strawberry.field(description="The caller's portal account, when the caller is one (null for staff).")
    def portal_account(self) -> Annotated[PortalAccount, strawberry.lazy("schema.portal")] | None:
        return getattr(self, "portal_account", None)

    @strawberry.field(description="The caller's integration, when the caller holds an API token (null for staff).")
    def integration(self) -> Annotated[Integration, strawberry.lazy("schema.integrations")] | None:
        return getattr(self, "integration", None)

    @strawberry.field(**at_most(CATALOGUE_ROWS))
    def permissions(self: Any) -> list[EffectivePermission]:
        return effective_permissions(self.grants)


@strawberry.type
class Session:
    id: strawberry.ID
    created_at: datetime
    last_seen_at: datetime | None
    expires_at: datetime
    ip_address: str | None
    user_agent: str | None

    @strawberry.field
    async def current(self: Any, info: Info) -> bool:
        principal = await info.context.principal()
        return bool(principal and principal.session and principal.session.id == self.id)


@strawberry.type
class LoginPayload(Payload):
    token: str | None = strawberry.field(default=None, description="Send as Authorization: Bearer <token>.")
    expires_at: datetime | None = None
    user: User | None = None
    password_reset_required: bool = False

    @classmethod
    def of_result(cls, result: Any) -> LoginPayload:
        """The payload of anything that opens a session (login, accepting a staff invitation)."""
        return cls(**vars(result))  # a LoginResult: the payload's fields but `errors`


@strawberry.type
class OkPayload(Payload):
    ok: bool

    @classmethod
    def of(cls, result: Any, errors: list[UserError]) -> OkPayload:
        return cls(ok=not errors, errors=errors)


@strawberry.input
class LoginInput:
    organization_slug: str
    username: str
    password: str


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.input
class UnlockWithPinInput:
    pin: str


@strawberry.type
class Query:
    @strawberry.field(**requires(description="Who is calling.", allow_reset=True, portal=True, tokens=True))
    async def viewer(self, info: Info) -> Viewer:
        return await info.context.principal()  # type: ignore[return-value]

    @strawberry.field(**requires(description="The caller's organization.", tokens=True))
    async def organization(self, info: Info) -> Organization:
        return (await info.context.principal()).organization  # type: ignore[return-value, union-attr]

    @strawberry.field(**at_most(CATALOGUE_ROWS, requires(description="The permission catalogue.", tokens=True)))
    def permissions(self) -> list[PermissionInfo]:
        return [PermissionInfo(permission=p, description=DESCRIPTIONS[p], org_wide=p in ORG_WIDE) for p in Permission]

    @strawberry.field(**at_most(OWN_ROWS, requires(description="The caller's own live sessions.")))
    async def my_sessions(self, info: Info) -> list[Session]:
        return await auth.my_sessions(info.context)  # type: ignore[return-value]


@strawberry.type
class Mutation:
    login = strawberry.mutation(
        resolver=LoginPayload.resolver(
            LoginInput, "auth.login", auth.login, "organization_slug", "username", "password"
        ),
        **signs_in("Open a staff session."),
    )

    @strawberry.mutation(
        **requires(
            description="End this session.",
            allow_locked=True,
            allow_reset=True,
            effects=(GrantEffect.NONE,),
            portal=True,
        )
    )
    async def logout(self, info: Info) -> OkPayload:
        principal = await info.context.require_principal(allow_locked=True, allow_reset=True)
        if principal.is_portal:
            return await OkPayload.run(info, "portal.logout", portal_auth.portal_logout)
        return await OkPayload.run(info, "auth.logout", auth.logout)

    change_password = strawberry.mutation(
        resolver=OkPayload.resolver(
            ChangePasswordInput, "auth.password_change", auth.change_password, "current_password", "new_password"
        ),
        **requires(
            description="Change one's password; other sessions end.",
            allow_reset=True,
            effects=(GrantEffect.NONE,),
            authenticates=True,
        ),
    )
    unlock_with_pin = strawberry.mutation(
        resolver=OkPayload.resolver(UnlockWithPinInput, "auth.unlock", auth.unlock_with_pin, "pin"),
        **requires(
            description="Unlock an idle-locked session; five wrong PINs end it.",
            allow_locked=True,
            allow_reset=True,
            effects=(GrantEffect.NONE,),
            authenticates=True,
        ),
    )

    @strawberry.mutation(**requires(description="End one of one's own sessions.", effects=(GrantEffect.NONE,)))
    async def revoke_session(self, info: Info, id: strawberry.ID) -> OkPayload:
        return await OkPayload.run(info, "auth.session_revoke", auth.revoke_session, id)
