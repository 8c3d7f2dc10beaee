"""Client portal accounts, proxy access and invitations (article 001): types, inputs and root fields.

A portal account is the second kind of principal: it logs in with `portalLogin` and sees the
clients it is linked to (the client scoping rule), their basic fields only. The staff side invites
(CLIENT_PORTAL_MANAGE at the client's location); the invitee accepts with its session or a new
account. Resolvers live in resolvers/invitations.py and resolvers/portal_auth.py.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from tortoise.expressions import Q, Subquery

from models.clients import Client as ClientRow
from models.enums import InvitationStatus, ProxyRelationship
from models.portal import ClientInvitation as InvitationRow
from models.portal import ClientPortalLink as LinkRow
from models.portal import PortalAccount as AccountRow
from models.users import User as UserRow
from permissions.catalog import Permission
from permissions.classes import GrantEffect, requires, signs_in
from permissions.scoping import client_q, user_q
from resolvers import invitations, portal_auth, registrations
from resolvers.inputs import parse_uuid
from schema.auth import OkPayload
from schema.errors import Payload, UserError, attempt
from schema.info import Info
from schema.inputs import id_input
from schema.limits import OWN_ROWS, at_most
from schema.loaders import by_id, grouped
from schema.pagination import Connection, PageInfo, SortKey, datetime_key, keyset_page
from schema.users import User

if TYPE_CHECKING:
    from schema.clients import Client

INVITATION_KEYS = (datetime_key("created_at", descending=True), SortKey("id", descending=True))


# --------------------------------------------------------------------------- batch functions


async def accounts_by_id(keys: list[str]) -> list[AccountRow | None]:
    return by_id(await AccountRow.filter(id__in=keys), keys)


async def links_of_clients(keys: list[str]) -> list[list[LinkRow]]:
    rows = await LinkRow.filter(client_id__in=keys).order_by("created_at", "id")
    return grouped([(row.client_id, row) for row in rows], keys)


async def invitations_of_clients(keys: list[str]) -> list[list[InvitationRow]]:
    rows = await InvitationRow.filter(client_id__in=keys).order_by("-created_at", "-id")
    return grouped([(row.client_id, row) for row in rows], keys)


# --------------------------------------------------------------------------- types


@strawberry.type
class PortalAccount:
    id: strawberry.ID
    email: str
    first_name: str | None
    last_name: str | None
    email_verified: bool
    created_at: datetime

    @strawberry.field(
        **at_most(OWN_ROWS, {"description": "The clients this account may act for, among those the viewer may see."})
    )
    async def links(self: Any, info: Info) -> list[ClientPortalLink]:
        principal = await info.context.require_principal()
        visible = Subquery(ClientRow.filter(client_q(principal)).values("id"))
        rows = await LinkRow.filter(Q(account_id=self.id), Q(client_id__in=visible)).order_by("created_at", "id")
        return rows  # type: ignore[return-value]


@strawberry.type
class ClientPortalLink:
    relationship: ProxyRelationship
    created_at: datetime

    @strawberry.field
    async def client(self: Any, info: Info) -> Annotated[Client, strawberry.lazy("schema.clients")]:
        from schema.clients import one_visible

        return await one_visible(info, str(self.client_id))  # type: ignore[no-any-return]

    @strawberry.field
    async def account(self: Any, info: Info) -> PortalAccount:
        return await info.context.loaders.of(accounts_by_id).load(str(self.account_id))  # type: ignore[no-any-return]


@strawberry.type
class ClientInvitation:
    id: strawberry.ID
    email: str
    relationship: ProxyRelationship
    verification_code: str | None = strawberry.field(description="Staff read it to the invitee over the phone.")
    expires_at: datetime
    sent_at: datetime | None
    send_count: int
    accepted_at: datetime | None

    @strawberry.field
    def requires_verification_code(self: Any) -> bool:
        return self.verification_code is not None

    @strawberry.field(description="Computed from the clock: an unanswered invitation past its expiry is EXPIRED.")
    def status(self: Any, info: Info) -> InvitationStatus:
        return invitations.status_of(self, info.context.now())

    @strawberry.field
    async def client(self: Any, info: Info) -> Annotated[Client, strawberry.lazy("schema.clients")]:
        from schema.clients import one_visible

        return await one_visible(info, str(self.client_id))  # type: ignore[no-any-return]

    @strawberry.field(description="Null when the viewer may not see that user.")
    async def created_by(self: Any, info: Info) -> User | None:
        if self.created_by_id is None:
            return None
        principal = await info.context.require_principal()
        return await UserRow.filter(user_q(principal), id=self.created_by_id).first()  # type: ignore[return-value]


@strawberry.type
class InvitationEdge:
    cursor: str
    node: ClientInvitation


@strawberry.type
class InvitationConnection(Connection[ClientInvitation]):
    edges: list[InvitationEdge]  # type: ignore[assignment]
    page_info: PageInfo


# --------------------------------------------------------------------------- inputs and payloads


@strawberry.input
class InviteClientUserInput:
    client_id: strawberry.ID
    email: str
    relationship: ProxyRelationship | None = ProxyRelationship.SELF
    require_verification_code: bool | None = False
    send: bool | None = strawberry.field(default=True, description="false: create it and hand out the link yourself.")


@strawberry.input
class BulkInviteClientsInput:
    client_ids: list[strawberry.ID]


@strawberry.input
class ResendClientInvitationInput:
    id: strawberry.ID
    send: bool | None = True


RevokeClientInvitationInput = id_input("RevokeClientInvitationInput")


@strawberry.input
class RemovePortalLinkInput:
    client_id: strawberry.ID
    account_id: strawberry.ID


@strawberry.input(
    description="First online booking: creates the account and a PENDING_REVIEW client for staff to merge or approve."
)
class PortalSignUpInput(registrations.SignUpData):
    """`SignUpData`'s fields, declared once there, so the input and what the sign-up checks cannot
    drift apart; `from_input` rebuilds it as one."""


@strawberry.input
class PortalLoginInput:
    organization_slug: str
    email: str
    password: str


@strawberry.input
class NewPortalAccountInput:
    password: str
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET


@strawberry.input
class AcceptClientInvitationInput:
    token: str
    verification_code: str | None = strawberry.UNSET
    date_of_birth: date | None = strawberry.field(
        default=strawberry.UNSET, description="Identity check: must match the client's, when the client has one."
    )
    new_account: NewPortalAccountInput | None = strawberry.UNSET


@strawberry.type
class ClientInvitationPayload(Payload):
    invitation: ClientInvitation | None = None
    link: str | None = strawberry.field(default=None, description="The acceptance URL (create, resend, get link).")

    @classmethod
    def of_result(cls, result: Any) -> ClientInvitationPayload:
        if isinstance(result, invitations.IssuedInvitation):
            return cls(invitation=result.invitation, link=result.link)  # type: ignore[arg-type]
        return cls(invitation=result)


@strawberry.type
class BulkInvitePayload:
    invitations: list[ClientInvitation]
    errors: list[UserError]


@strawberry.type
class PortalSessionPayload(Payload):
    token: str | None = strawberry.field(default=None, description="Send as Authorization: Bearer <token>.")
    expires_at: datetime | None = None
    account: PortalAccount | None = None

    @classmethod
    def of_result(cls, result: Any) -> PortalSessionPayload:
        return cls(token=result.token, expires_at=result.expires_at, account=result.account)


@strawberry.type
class AcceptClientInvitationPayload(Payload):
    link: ClientPortalLink | None = None
    token: str | None = strawberry.field(default=None, description="A portal session, when newAccount made one.")
    expires_at: datetime | None = None

    @classmethod
    def of_result(cls, result: Any) -> AcceptClientInvitationPayload:
        session = result.session
        return cls(
            link=result.link,
            token=session.token if session else None,
            expires_at=session.expires_at if session else None,
        )


# --------------------------------------------------------------------------- root fields


def _manage(description: str) -> dict[str, Any]:
    """What every staff mutation of the portal needs: CLIENT_PORTAL_MANAGE at the client's location,
    which its description says (the permission text alone would not name the client's location)."""
    return requires(
        Permission.CLIENT_PORTAL_MANAGE,
        description=f"{description} Requires CLIENT_PORTAL_MANAGE at the client's location.",
        effects=(GrantEffect.NONE,),
    )


@strawberry.type
class Query:
    @strawberry.field(
        **requires(
            Permission.CLIENT_PORTAL_MANAGE,
            description="Invitations of the clients the viewer may see, at locations where it holds "
            "CLIENT_PORTAL_MANAGE; newest first.",
        )
    )
    async def client_invitations(
        self,
        info: Info,
        client_id: strawberry.ID | None = None,
        status: InvitationStatus | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> InvitationConnection:
        principal = await info.context.require_principal()
        query = InvitationRow.filter(invitations.invitations_q(principal))
        if client_id is not None:
            # An id that is no UUID names no client: an empty list, as an unknown one.
            query = query.filter(client_id=parse_uuid(client_id)) if parse_uuid(client_id) else query.filter(id__in=[])
        if status is not None:
            query = query.filter(invitations.status_q(status, info.context.now()))
        page = await keyset_page(query, INVITATION_KEYS, first, after)
        return InvitationConnection(
            edges=page.edges,  # type: ignore[arg-type]
            page_info=page.page_info,
            count_query=page.count_query,
            known_total=page.known_total,
        )


@strawberry.type
class Mutation:
    portal_sign_up = strawberry.mutation(
        resolver=PortalSessionPayload.resolver(PortalSignUpInput, "portal.sign_up", registrations.portal_sign_up),
        **signs_in(
            "Sign up online: a portal account and a PENDING_REVIEW client at the chosen location, linked as SELF, "
            "and a portal session. An email that has an account takes nothing over (DUPLICATE); throttled like "
            "portalLogin."
        ),
    )
    portal_login = strawberry.mutation(
        resolver=PortalSessionPayload.resolver(
            PortalLoginInput, "portal.login", portal_auth.portal_login, "organization_slug", "email", "password"
        ),
        **signs_in("Open a portal session."),
    )
    invite_client_user = strawberry.mutation(
        resolver=ClientInvitationPayload.resolver(
            InviteClientUserInput, "client.invite", invitations.invite_client_user
        ),
        **_manage("Invite someone to manage a client's appointments (proxy access)."),
    )

    @strawberry.mutation(
        **_manage(
            "Invite each client at its own email, as SELF (at most 100); a client that cannot be "
            "invited is an error at its index and the rest are invited."
        )
    )
    async def bulk_invite_clients(self, info: Info, input: BulkInviteClientsInput) -> BulkInvitePayload:
        result, errors = await attempt(
            info.context, "client.bulk_invite", lambda: invitations.bulk_invite_clients(info.context, input.client_ids)
        )
        invited, problems = result if result is not None else ([], None)
        if problems is not None:
            errors = [UserError.from_problem(p) for p in problems.items]
        return BulkInvitePayload(invitations=invited, errors=errors)  # type: ignore[arg-type]

    @strawberry.mutation(
        **_manage(
            "A new link and a new expiry for a pending or expired invitation; the old link dies "
            "(also the way to get a link to hand out, with send: false)."
        )
    )
    async def resend_client_invitation(self, info: Info, input: ResendClientInvitationInput) -> ClientInvitationPayload:
        return await ClientInvitationPayload.run(
            info, "client.invitation_resend", invitations.resend_invitation, input.id, input.send is not False
        )

    revoke_client_invitation = strawberry.mutation(
        resolver=ClientInvitationPayload.resolver(
            RevokeClientInvitationInput, "client.invitation_revoke", invitations.revoke_invitation, "id"
        ),
        **_manage("Revoke a pending invitation."),
    )
    accept_client_invitation = strawberry.mutation(
        resolver=AcceptClientInvitationPayload.resolver(
            AcceptClientInvitationInput, "client.invitation_accept", invitations.accept_invitation
        ),
        **signs_in(
            "Accept a client invitation: with a portal session whose email is the invited one, or with "
            "newAccount to create the account for the invited email (and a session). Asks for the "
            "verification code and the client's date of birth when they apply; five wrong answers void it."
        ),
    )
    remove_portal_link = strawberry.mutation(
        resolver=OkPayload.resolver(
            RemovePortalLinkInput,
            "client.portal_link_remove",
            invitations.remove_portal_link,
            "client_id",
            "account_id",
        ),
        **_manage("End an account's access to a client; it applies on the account's next request."),
    )
