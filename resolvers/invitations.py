"""Client invitations and proxy links (article 001; docs/architecture.md "Client portal").

Staff with CLIENT_PORTAL_MANAGE at a client's location invite someone to manage the client's
appointments: a single-use link (`tsl_...`, stored as a hash, `invitation_ttl_seconds`), mailed
through the outbox or handed out ("get link"), optionally with a 6-digit verification code the
invitee gets by phoning the clinic. Accepting it links a portal account to the client: the account
of the caller's portal session (its email must be the invited one), or a new account made for the
invited email. When the client has a date of birth, accepting asks for it too.

Identity checks are counted before they are judged (as staff PINs are): five wrong codes or dates
of birth void the invitation, however many guesses arrive at once. A status is computed from the
row and the clock (`status_of`), never kept, so no job has to expire anything.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from models.clients import Client
from models.enums import ActorKind, ClientStatus, InvitationStatus, ProxyRelationship
from models.organization import Organization
from models.portal import ClientInvitation, ClientPortalLink, PortalAccount
from models.sql import write_returning
from models.users import User
from permissions.catalog import Permission
from permissions.grants import ALL
from permissions.principal import Principal
from permissions.scoping import client_q
from resolvers import audit, outbox
from resolvers.client_lookup import client_to_act_on
from resolvers.context import RequestContext
from resolvers.credentials import LINK_TOKEN_PREFIX, hash_secret, new_token, password_problem, token_hash
from resolvers.errors import ErrorCode, InputError, Problem, Problems, fail
from resolvers.inputs import parse_uuid
from resolvers.portal_auth import PortalSessionResult, email_key, open_portal_session
from resolvers.validation import normalize_email

IDENTITY_FAILURE_LIMIT = 5
_ASKED = {"verificationCode": "the verification code", "dateOfBirth": "the date of birth"}
BULK_LIMIT = 100
INVALID_MESSAGE = "This invitation is not valid any more: ask the clinic for a new one."
# Clients that may gain portal access (an archived or merged one may not).
OPEN_STATUSES = (ClientStatus.ACTIVE, ClientStatus.PENDING_REVIEW)


@dataclass
class InviteData:
    client_id: Any
    email: str
    relationship: ProxyRelationship = ProxyRelationship.SELF
    require_verification_code: bool = False
    send: bool = True


@dataclass
class NewAccountData:
    password: str
    first_name: str | None = None
    last_name: str | None = None


@dataclass
class AcceptData:
    token: str
    verification_code: str | None = None
    date_of_birth: date | None = None
    new_account: NewAccountData | None = None


@dataclass
class IssuedInvitation:
    """An invitation and, when staff are to hand it out themselves (`send: false`, "get link"), the
    link that opens it. A mailed link is for the invitee's mailbox only: staff holding it could
    accept in the invitee's name."""

    invitation: ClientInvitation
    link: str | None


@dataclass
class Acceptance:
    link: ClientPortalLink
    session: PortalSessionResult | None


def status_of(invitation: ClientInvitation, now: datetime) -> InvitationStatus:
    if invitation.accepted_at is not None:
        return InvitationStatus.ACCEPTED
    if invitation.revoked_at is not None:
        return InvitationStatus.REVOKED
    if invitation.expires_at <= now:
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


async def has_portal_access(client_id: Any, now: datetime) -> bool:
    """Whether portal accounts manage the client or a pending invitation could link one: what moving
    the client to another location (or merging it into another client) hands to that location, as
    inviting there would (docs/architecture.md "Client portal")."""
    if await ClientPortalLink.filter(client_id=client_id).exists():
        return True
    return await ClientInvitation.filter(status_q(InvitationStatus.PENDING, now), client_id=client_id).exists()


def status_q(status: InvitationStatus, now: datetime) -> Q:
    """`status_of` as a row filter, for the invitations list."""
    unused = Q(accepted_at__isnull=True, revoked_at__isnull=True)
    return {
        InvitationStatus.ACCEPTED: Q(accepted_at__isnull=False),
        InvitationStatus.REVOKED: Q(accepted_at__isnull=True, revoked_at__isnull=False),
        InvitationStatus.EXPIRED: unused & Q(expires_at__lte=now),
        InvitationStatus.PENDING: unused & Q(expires_at__gt=now),
    }[status]


def invitations_q(principal: Principal) -> Q:
    """The invitations a principal may read: those of clients it may see, at locations where it
    holds CLIENT_PORTAL_MANAGE (the guard on `Client.invitations`)."""
    scope = principal.grants.scope(Permission.CLIENT_PORTAL_MANAGE)
    visible = Q(organization_id=principal.organization.id) & Q(
        client_id__in=Subquery(Client.filter(client_q(principal)).values("id"))
    )
    if scope is ALL:
        return visible
    return visible & Q(client__location_id__in=sorted(scope))


# --------------------------------------------------------------------------- staff side


async def _managed_client(principal: Principal, client_id: Any, *path: str, open_only: bool = True) -> Client:
    """The client, visible to the actor, at a location where the actor holds CLIENT_PORTAL_MANAGE,
    and open (unless `open_only` is off: revoking and removing access stay possible on an archived
    client); else NOT_FOUND (out of sight) or FORBIDDEN / INVALID at `path`."""
    refusal = "Portal access needs CLIENT_PORTAL_MANAGE at the client's location."
    if (parsed := parse_uuid(client_id)) is not None:
        # The client's row first, as accepting, archiving, merging and a move's write take it: an
        # invitation racing a move, an archive or another invitation of the client waits its turn.
        await Client.filter(id=parsed, organization_id=principal.organization_id).select_for_update().first()
    client = await client_to_act_on(principal, client_id, Permission.CLIENT_PORTAL_MANAGE, refusal, *path)
    if open_only and client.status not in OPEN_STATUSES:
        raise fail(ErrorCode.INVALID, "An archived or merged client cannot be invited.", *path)
    return client


async def _managed_invitation(principal: Principal, invitation_id: Any) -> ClientInvitation:
    parsed = parse_uuid(invitation_id)
    found = await ClientInvitation.filter(invitations_q(principal), id=parsed).first() if parsed else None
    if found is None:
        raise fail(ErrorCode.NOT_FOUND, "No such invitation.", "input", "id")
    return found


def _new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _link(ctx: RequestContext, token: str) -> str:
    """The acceptance URL: the API's own invitation page, or the deployment's front end there."""
    return f"{ctx.settings.public_url.rstrip('/')}/invitation?token={token}"


async def _mail(ctx: RequestContext, invitation: ClientInvitation, client: Client, link: str, claim: bool) -> None:
    organization = await Organization.get(id=client.organization_id)
    if claim:
        template = "portal_claim"
    else:
        template = "client_invitation_code" if invitation.verification_code else "client_invitation"
    await outbox.enqueue(
        ctx,
        template=template,
        to=invitation.email,
        language=client.preferred_language,
        organization_id=client.organization_id,
        values={
            "first_name": client.first_name,
            "client_name": f"{client.first_name} {client.last_name}",
            "organization": organization.name,
            "link": link,
            "expires": invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        },
    )
    invitation.sent_at = ctx.now()
    invitation.send_count += 1
    await invitation.save(update_fields=["sent_at", "send_count"])


async def issue_invitation(
    ctx: RequestContext, client: Client, data: InviteData, *, created_by: User | None, claim: bool = False
) -> IssuedInvitation:
    """Create one invitation for a client the actor may invite to (checked by the caller), in the
    caller's transaction; `claim` is createClient's 72-hour claim email to the client itself."""
    try:
        email = normalize_email(data.email)
    except ValueError as error:
        raise fail(ErrorCode.INVALID, str(error), "input", "email") from None
    key = email_key(email)
    linked = await ClientPortalLink.filter(client_id=client.id, account__email_key=key).exists()
    if linked:
        raise fail(ErrorCode.DUPLICATE, "An account with this email already manages this client.", "input", "email")
    now = ctx.now()
    pending = await ClientInvitation.filter(status_q(InvitationStatus.PENDING, now), client_id=client.id, email_key=key)
    if pending:
        raise fail(
            ErrorCode.DUPLICATE,
            "This email already has a pending invitation for this client: resend it instead.",
            "input",
            "email",
        )
    token = new_token(LINK_TOKEN_PREFIX)
    invitation = await ClientInvitation.create(
        organization_id=client.organization_id,
        client_id=client.id,
        email=email,
        relationship=data.relationship,
        token_hash=token_hash(token),
        verification_code=_new_code() if data.require_verification_code else None,
        expires_at=now + timedelta(seconds=ctx.settings.invitation_ttl_seconds),
        created_by_id=created_by.id if created_by else None,
    )
    issued = await _deliver(ctx, invitation, client, token, send=data.send, claim=claim)
    await audit.record(
        ctx,
        "client.invite",
        about=invitation,
        location_id=client.location_id,
        changes={
            "client": str(client.id),
            "relationship": data.relationship,
            "verificationCode": data.require_verification_code,
            "sent": data.send,
        },
    )
    return issued


async def _deliver(
    ctx: RequestContext, invitation: ClientInvitation, client: Client, token: str, *, send: bool, claim: bool
) -> IssuedInvitation:
    """The invitation's new link on its way: mailed to the invitee (`send`), or handed to staff,
    once, in what this returns ("get link")."""
    link = _link(ctx, token)
    if send:
        await _mail(ctx, invitation, client, link, claim)
        return IssuedInvitation(invitation, None)
    invitation.link_shown = True
    await invitation.save(update_fields=["link_shown"])
    return IssuedInvitation(invitation, link)


async def invite_client_user(ctx: RequestContext, data: InviteData) -> IssuedInvitation:
    principal = await ctx.require_principal()
    async with in_transaction():
        client = await _managed_client(principal, data.client_id, "input", "clientId")
        return await issue_invitation(ctx, client, data, created_by=principal.user)


async def bulk_invite_clients(ctx: RequestContext, client_ids: list[Any]) -> tuple[list[ClientInvitation], Problems]:
    """Invite each client at its own email, SELF, sent now: each in its own transaction, so one
    refused client (no email, out of reach, already invited) is reported at its index and the rest
    are invited."""
    principal = await ctx.require_principal()
    if len(client_ids) > BULK_LIMIT:
        raise fail(ErrorCode.INVALID, f"Invite at most {BULK_LIMIT} clients at once.", "input", "clientIds")
    invited: list[ClientInvitation] = []
    problems = Problems()
    for index, client_id in enumerate(client_ids):
        path = ("input", "clientIds", str(index))
        try:
            async with in_transaction():
                client = await _managed_client(principal, client_id, *path)
                if not client.email:
                    raise fail(ErrorCode.REQUIRED, "This client has no email address.", *path)
                issued = await issue_invitation(
                    ctx, client, InviteData(client.id, client.email), created_by=principal.user
                )
                invited.append(issued.invitation)
        except InputError as error:
            problems.extend([Problem(p.code, p.message, path) for p in error.problems])
    refused = [".".join(p.field or ()) for p in problems.items if p.code is ErrorCode.FORBIDDEN]
    if refused:  # a refusal is a security event, as `attempt()` records one for a whole input
        await audit.record(ctx, "client.bulk_invite.refused", changes={"fields": refused})
    return invited, problems


def _still_of(invitation: ClientInvitation, client: Client) -> None:
    """The invitation, read again under the locks, still belongs to the client whose row (and whose
    CLIENT_PORTAL_MANAGE) was checked: an unmerge may have moved it back to its source meanwhile."""
    if invitation.client_id != client.id:
        raise fail(ErrorCode.NOT_FOUND, "No such invitation.", "input", "id")


async def resend_invitation(ctx: RequestContext, invitation_id: Any, send: bool) -> IssuedInvitation:
    """A new token and a new expiry for a pending or expired invitation; the old link dies."""
    principal = await ctx.require_principal()
    async with in_transaction():
        invitation = await _managed_invitation(principal, invitation_id)
        client = await _managed_client(principal, invitation.client_id, "input", "id")
        await ClientInvitation.filter(id=invitation.id).select_for_update().first()
        await invitation.refresh_from_db()
        _still_of(invitation, client)
        if status_of(invitation, ctx.now()) not in (InvitationStatus.PENDING, InvitationStatus.EXPIRED):
            raise fail(ErrorCode.INVALID, "Only a pending or expired invitation can be sent again.", "input", "id")
        token = new_token(LINK_TOKEN_PREFIX)
        invitation.token_hash = token_hash(token)
        invitation.expires_at = ctx.now() + timedelta(seconds=ctx.settings.invitation_ttl_seconds)
        invitation.link_shown = False
        await invitation.save(update_fields=["token_hash", "expires_at", "link_shown"])
        issued = await _deliver(ctx, invitation, client, token, send=send, claim=False)
        await audit.record(
            ctx,
            "client.invitation_resend",
            about=invitation,
            location_id=client.location_id,
            changes={"sent": send},
        )
        return issued


async def revoke_invitation(ctx: RequestContext, invitation_id: Any) -> ClientInvitation:
    principal = await ctx.require_principal()
    async with in_transaction():
        invitation = await _managed_invitation(principal, invitation_id)
        client = await _managed_client(principal, invitation.client_id, "input", "id", open_only=False)
        now = ctx.now()
        revoked = await ClientInvitation.filter(
            id=invitation.id, client_id=client.id, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        if not revoked:
            raise fail(ErrorCode.INVALID, "This invitation was already accepted or revoked.", "input", "id")
        invitation.revoked_at = now
        await audit.record(
            ctx,
            "client.invitation_revoke",
            about=invitation,
            location_id=client.location_id,
        )
        return invitation


async def revoke_pending(client_id: Any, now: datetime) -> int:
    """Revoke every pending invitation of a client (archived: it may gain no portal access)."""
    return await ClientInvitation.filter(status_q(InvitationStatus.PENDING, now), client_id=client_id).update(
        revoked_at=now
    )


async def remove_portal_link(ctx: RequestContext, client_id: Any, account_id: Any) -> None:
    """End an account's proxy access to a client: its next request no longer sees the client."""
    principal = await ctx.require_principal()
    async with in_transaction():
        client = await _managed_client(principal, client_id, "input", "clientId", open_only=False)
        parsed = parse_uuid(account_id)
        removed = await ClientPortalLink.filter(client_id=client.id, account_id=parsed).delete() if parsed else 0
        if not removed:
            raise fail(ErrorCode.NOT_FOUND, "This account does not manage this client.", "input", "accountId")
        await audit.record(ctx, "client.portal_link_remove", about=client, changes={"account": str(parsed)})


# --------------------------------------------------------------------------- the invitee's side

# Counts an identity check before it is judged, in one atomic statement: parallel guesses each get
# a numbered turn, and only turns 1 to 5 are judged at all.
_TAKE_TURN_SQL = """
UPDATE client_invitations SET code_failures = code_failures + 1
 WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL
RETURNING code_failures
"""


async def _find(token: str) -> ClientInvitation | None:
    return await ClientInvitation.filter(token_hash=token_hash((token or "").strip())).select_related("client").first()


async def _locked(invitation_id: Any) -> ClientInvitation | None:
    row = await ClientInvitation.filter(id=invitation_id).select_for_update().first()
    if row is not None:
        await row.fetch_related("client")
    return row


def _usable(invitation: ClientInvitation | None, now: datetime) -> bool:
    """Pending, for a client that may still gain portal access (not archived or merged since), and
    not out of identity checks: the failure that voids it is counted at once, while writing the void
    comes after, so a right answer racing the fifth wrong one must not slip in between (a burst of
    parallel guesses would otherwise get past the limit)."""
    return (
        invitation is not None
        and status_of(invitation, now) is InvitationStatus.PENDING
        and invitation.client.status in OPEN_STATUSES
        and invitation.code_failures < IDENTITY_FAILURE_LIMIT
    )


@dataclass(frozen=True)
class InvitationView:
    """What the page a link opens shows and asks (read only: nothing recorded, nothing counted)."""

    organization: Organization
    client_first_name: str
    email: str
    needs_code: bool
    needs_date_of_birth: bool
    has_account: bool


async def invitation_view(token: str, now: datetime) -> InvitationView | None:
    """The pending invitation behind a link, as its page shows it; None when the link opens nothing."""
    found = await _find(token)
    if found is None or not _usable(found, now):
        return None
    organization = await Organization.get(id=found.organization_id)
    has_account = await PortalAccount.filter(organization_id=found.organization_id, email_key=found.email_key).exists()
    return InvitationView(
        organization=organization,
        client_first_name=found.client.first_name,
        email=found.email,
        needs_code=found.verification_code is not None,
        needs_date_of_birth=found.client.date_of_birth is not None,
        has_account=has_account,
    )


def _in_invitation_organization(ctx: RequestContext, invitation: ClientInvitation) -> dict[str, Any]:
    """Audit arguments for an event of the invitee's side: filed under the invitation's organization,
    whose trail never names a principal of another organization (such a caller is anonymous there)."""
    principal = ctx._principal if ctx._resolved else None
    same = principal is not None and principal.organization_id == str(invitation.organization_id)
    return {"organization_id": invitation.organization_id, **({} if same else {"actor_kind": ActorKind.ANONYMOUS})}


async def _check_identity(ctx: RequestContext, invitation: ClientInvitation, data: AcceptData) -> None:
    """The verification code (when the invitation has one) and the client's date of birth (when it
    has one) must both be right; a wrong one counts toward the five that void the invitation."""
    client = invitation.client
    code_ok = invitation.verification_code is None or hmac.compare_digest(
        (data.verification_code or "").strip().encode(), invitation.verification_code.encode()
    )
    birth_ok = client.date_of_birth is None or data.date_of_birth == client.date_of_birth
    if code_ok and birth_ok:
        return
    rows = await write_returning(_TAKE_TURN_SQL, [str(invitation.id)])
    turn = int(rows[0]["code_failures"]) if rows else IDENTITY_FAILURE_LIMIT + 1
    voided = turn >= IDENTITY_FAILURE_LIMIT
    async with in_transaction():
        if voided:
            await ClientInvitation.filter(id=invitation.id, revoked_at__isnull=True).update(revoked_at=ctx.now())
        await audit.record(
            ctx,
            "client.invitation_check_failed",
            **_in_invitation_organization(ctx, invitation),
            about=invitation,
            changes={"failures": turn, "voided": voided},
        )
    if turn > IDENTITY_FAILURE_LIMIT:
        raise fail(ErrorCode.INVITATION_INVALID, INVALID_MESSAGE, "input", "token")
    # One answer whichever part is wrong, so the date of birth cannot be confirmed on its own.
    asked = [
        name
        for name, needed in (
            ("verificationCode", invitation.verification_code is not None),
            ("dateOfBirth", client.date_of_birth is not None),
        )
        if needed
    ]
    wrong = " or ".join(_ASKED[name] for name in asked) + (" does not match." if len(asked) == 1 else " do not match.")
    suffix = " The invitation is now void: ask the clinic for a new one." if voided else ""
    raise fail(ErrorCode.VERIFICATION_CODE_INVALID, wrong[0].upper() + wrong[1:] + suffix, "input", asked[0])


async def accept_invitation(ctx: RequestContext, data: AcceptData) -> Acceptance:
    """Link the invited client to the caller's portal account (whose email must be the invited one),
    or to a new account made for the invited email (never to an existing one: logging in is how an
    existing account proves itself)."""
    now = ctx.now()
    invitation = await _find(data.token)
    if invitation is None or not _usable(invitation, now):
        where = _in_invitation_organization(ctx, invitation) if invitation else {"organization_id": None}
        await audit.record(ctx, "client.invitation_invalid", **where)
        raise fail(ErrorCode.INVITATION_INVALID, INVALID_MESSAGE, "input", "token")
    await _check_identity(ctx, invitation, data)
    principal = await ctx.principal()
    portal = principal if principal is not None and principal.is_portal else None
    if data.new_account is None and (portal is None or str(portal.organization.id) != str(invitation.organization_id)):
        raise fail(
            ErrorCode.REQUIRED, "Log in to your portal account, or create one, to accept.", "input", "newAccount"
        )
    password_hash = _new_account_hash(invitation, data.new_account) if data.new_account is not None else None
    async with in_transaction():
        # The client's row first, then the invitation's: the order an archive or a merge takes them
        # in, so one racing this acceptance either waits for it or is seen by it (never a link made
        # to a client archived or merged meanwhile). Then read again under the locks: a merge (or a
        # resend, a revoke) may have moved or voided the invitation since.
        await Client.filter(id=invitation.client_id).select_for_update()
        locked = await _locked(invitation.id)
        if (
            locked is None
            or locked.client_id != invitation.client_id
            or not _usable(locked, now)
            or locked.token_hash != token_hash((data.token or "").strip())
        ):
            raise fail(ErrorCode.INVITATION_INVALID, INVALID_MESSAGE, "input", "token")
        invitation = locked
        if data.new_account is not None:
            assert password_hash is not None
            account = await _new_account(invitation, data.new_account, password_hash)
        else:
            assert portal is not None and portal.portal_account is not None
            account = portal.portal_account
            if account.email_key != invitation.email_key:
                raise fail(
                    ErrorCode.INVITATION_INVALID,
                    "This invitation is for another email address: log in with that one.",
                    "input",
                    "token",
                )
        claimed = await ClientInvitation.filter(
            id=invitation.id,
            token_hash=invitation.token_hash,  # a resend meanwhile voided this link
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
            code_failures__lt=IDENTITY_FAILURE_LIMIT,
        ).update(accepted_at=now, accepted_by_id=account.id)
        if claimed != 1:
            raise fail(ErrorCode.INVITATION_INVALID, INVALID_MESSAGE, "input", "token")
        if _proves_mailbox(invitation) and not account.email_verified:
            await PortalAccount.filter(id=account.id).update(email_verified=True)
        link = await _link_account(invitation, account)
        await audit.record(
            ctx,
            "client.invitation_accept",
            organization_id=invitation.organization_id,
            by=account,
            about=invitation,
            location_id=invitation.client.location_id,
            changes={"account": str(account.id), "newAccount": data.new_account is not None},
        )
        session = await open_portal_session(ctx, account) if data.new_account is not None else None
    # The caller's links just changed: the rest of the request (the payload's client) sees the new one.
    ctx.forget_principal()
    return Acceptance(link, session)


async def _link_account(invitation: ClientInvitation, account: PortalAccount) -> ClientPortalLink:
    """The account's link to the invited client: the one it has, or a new one (two invitations of
    one client accepted at once by one account make one link: the unique key decides)."""
    found = await ClientPortalLink.filter(client_id=invitation.client_id, account_id=account.id).first()
    if found is not None:
        return found
    try:
        async with in_transaction():  # a savepoint: a lost race rolls back this insert alone
            return await ClientPortalLink.create(
                organization_id=invitation.organization_id,
                client_id=invitation.client_id,
                account_id=account.id,
                relationship=invitation.relationship,
            )
    except IntegrityError:
        return await ClientPortalLink.get(client_id=invitation.client_id, account_id=account.id)


def _proves_mailbox(invitation: ClientInvitation) -> bool:
    """Whether accepting the invitation proves the account owns its email address: its link was
    mailed there and never shown to staff, so only that mailbox had it (what vouches for an online
    registration in a merge: resolvers/merges.py `_vouched`)."""
    return invitation.sent_at is not None and not invitation.link_shown


_ACCOUNT_EXISTS = "An account with this email exists: log in with it, then open the link again."


def _name(value: str | None) -> str | None:
    """A typed name as stored: control characters (a NUL, which PostgreSQL refuses) dropped, trimmed."""
    text = "".join(c for c in (value or "") if c.isprintable())
    return text.strip()[:100] or None


def _new_account_hash(invitation: ClientInvitation, data: NewAccountData) -> str:
    """The new account's password, judged and hashed before any transaction opens (argon2 takes
    tens of milliseconds, which no write lock should wait for)."""
    if problem := password_problem(data.password, invitation.email):
        raise fail(ErrorCode.PASSWORD_TOO_WEAK, problem, "input", "newAccount", "password")
    return hash_secret(data.password)


async def _new_account(invitation: ClientInvitation, data: NewAccountData, password_hash: str) -> PortalAccount:
    """A portal account for the invited email. An email that has one already takes nothing over:
    the existing account is left as it is, and the invitee is told to log in (also when another
    acceptance made it a moment ago: the unique key decides)."""
    if await PortalAccount.filter(organization_id=invitation.organization_id, email_key=invitation.email_key).exists():
        raise fail(ErrorCode.DUPLICATE, _ACCOUNT_EXISTS, "input", "newAccount")
    try:
        async with in_transaction():  # a savepoint: a lost race rolls back this insert alone
            return await PortalAccount.create(
                organization_id=invitation.organization_id,
                email=invitation.email,
                password_hash=password_hash,
                first_name=_name(data.first_name),
                last_name=_name(data.last_name),
                email_verified=_proves_mailbox(invitation),
            )
    except IntegrityError:
        raise fail(ErrorCode.DUPLICATE, _ACCOUNT_EXISTS, "input", "newAccount") from None
