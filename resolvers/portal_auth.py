"""Portal accounts' authentication (docs/architecture.md "Authentication"): `portalLogin`, the
portal session behind a `tsp_` token, and opening a session for an account just proven.

The staff rules hold here too: one answer (INVALID_CREDENTIALS) until the password is proven, a
dummy hash verified for an unknown email, and the login throttle (5 failures per (organization,
email, IP), 20 per (organization, email) within an hour), counted in the same table as staff
attempts under a key no staff username can have (`portal_login_key`). Sessions last
`session_max_seconds` (12 h) from login; there is no idle lock (no PIN on the portal).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from models.keys import search_key
from models.organization import Organization
from models.portal import ClientPortalLink, PortalAccount, PortalSession
from permissions.grants import NO_GRANTS
from permissions.principal import Principal, PrincipalKind
from resolvers import audit, login_throttle, metrics
from resolvers.auth import THROTTLED_MESSAGE, login_key
from resolvers.context import RequestContext
from resolvers.credentials import PORTAL_SESSION_PREFIX, new_token, token_hash, verify_secret
from resolvers.errors import ErrorCode, fail
from resolvers.sessions import find_by_token, opening_values
from resolvers.throttle import login_lock, throttle_address
from resolvers.validation import normalize_email

# Staff usernames have no spaces, so no staff login attempt is ever counted against a portal email.
_PORTAL_KEY_PREFIX = "portal "
SLUG_MAX = 63  # organizations.slug
EMAIL_MAX = 254  # portal_accounts.email_key
INVALID_CREDENTIALS_MESSAGE = "The organization, email or password is not right."
INACTIVE_MESSAGE = "This portal account has been closed. Call the clinic."


def email_key(email: str) -> str:
    """The key a portal account is unique and found by: the email as typed, trimmed, lowercased
    (`search_key`, as staff usernames)."""
    return search_key(email.strip())


def portal_login_key(email: str) -> str:
    """The login throttle's key for a portal email (its own namespace beside staff usernames): the
    address as an account holds it (normalized: `maya@ｅｘａｍｐｌｅ.org` is `maya@example.org`, and a
    sign-up finds that account by it), so no spelling of one address is a counter of its own; text
    that is no address, as typed."""
    with contextlib.suppress(ValueError):
        email = normalize_email(email)
    return login_key(_PORTAL_KEY_PREFIX + email.strip())


@dataclass
class PortalSessionResult:
    token: str
    expires_at: datetime
    account: PortalAccount


async def authenticate_portal(ctx: RequestContext) -> Principal | None:
    """The principal behind a portal session token, or None (unknown, revoked, expired, closed).
    Two statements: the session with its account and organization, then the account's links; nothing
    is cached, so a removed link or a closed account applies on the very next request."""
    session = await find_by_token(ctx, PORTAL_SESSION_PREFIX, PortalSession, "account", "organization")
    if session is None or session.expires_at <= ctx.now() or not session.account.is_active:
        return None
    client_ids = await ClientPortalLink.filter(account_id=session.account_id).values_list("client_id", flat=True)
    return Principal(
        kind=PrincipalKind.PORTAL_ACCOUNT,
        organization=session.organization,
        grants=NO_GRANTS,
        sites=frozenset(),
        session=None,
        portal_account=session.account,
        portal_session=session,
        client_ids=frozenset(str(c) for c in client_ids),
    )


async def portal_login(ctx: RequestContext, organization_slug: str, email: str, password: str) -> PortalSessionResult:
    """Open a portal session, or raise an InputError with the one code the caller may be told."""
    slug = organization_slug.strip().lower()
    key = portal_login_key(email)
    async with login_lock(slug, key):
        return await _login(ctx, slug, email, key, password)


async def _login(ctx: RequestContext, slug: str, email: str, key: str, password: str) -> PortalSessionResult:
    ip = throttle_address(ctx.ip_address)
    # A value longer than its column can match no row (and the ORM refuses to compare it).
    organization = await Organization.filter(slug=slug).first() if len(slug) <= SLUG_MAX else None
    account = None
    turn = None
    if organization is not None:
        turn = await login_throttle.begin(ctx, organization.id, key, ip)
        key_of_email = email_key(email)
        if len(key_of_email) <= EMAIL_MAX:
            account = await PortalAccount.filter(organization_id=organization.id, email_key=key_of_email).first()
        if turn.state.throttled:
            metrics.LOGIN_THROTTLED.labels("portal").inc()
            # About the account the email names, if any: the trail shows its email only to readers
            # of its clients (resolvers/audit_query.py), as for a failed login.
            await audit.record(
                ctx,
                "portal.login_throttled",
                organization_id=organization.id,
                about=account,
                changes={"email": key_of_email},
            )
            raise fail(ErrorCode.LOGIN_THROTTLED, THROTTLED_MESSAGE)
    if not verify_secret(account.password_hash if account else None, password):
        if organization is not None and turn is not None:
            await login_throttle.failed(ctx, organization.id, turn, key, ip)
        metrics.LOGIN_FAILURES.labels("portal").inc()
        await audit.record(
            ctx,
            "portal.login_failed",
            organization_id=organization.id if organization else None,
            about=account,
            changes={"email": email_key(email)},
        )
        raise fail(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS_MESSAGE)
    assert account is not None and turn is not None
    await login_throttle.succeeded(ctx, turn)
    if not account.is_active:
        raise fail(ErrorCode.ACCOUNT_INACTIVE, INACTIVE_MESSAGE)
    return await open_portal_session(ctx, account)


async def open_portal_session(ctx: RequestContext, account: PortalAccount) -> PortalSessionResult:
    """A new portal session for an account whose credentials were just proven (login, sign-up, an
    invitation accepted with a new account), with its audit event; the rest of the request acts as it."""
    token = new_token(PORTAL_SESSION_PREFIX)
    async with in_transaction():
        session = await PortalSession.create(
            organization_id=account.organization_id, account_id=account.id, **opening_values(ctx, token, ctx.now())
        )
        await audit.record(ctx, "portal.login", organization_id=account.organization_id, about=session, by=account)
    ctx.act_as(token)
    return PortalSessionResult(token, session.expires_at, account)


async def portal_logout(ctx: RequestContext) -> None:
    principal = await ctx.require_principal()
    session = principal.portal_session
    assert session is not None
    async with in_transaction():
        await PortalSession.filter(id=session.id, revoked_at__isnull=True).update(
            revoked_at=ctx.now(), revoked_reason="LOGOUT"
        )
        await audit.record(ctx, "portal.logout", about=session)


async def end_portal_session_of(token: str, reason: str, now: datetime) -> int:
    """Revoke the portal session behind `token`: one opened for a page that signs nobody in."""
    return await PortalSession.filter(token_hash=token_hash(token), revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason
    )
