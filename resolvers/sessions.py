"""Turning a bearer token into a principal, and a user into grants (docs/architecture.md,
"Principals and grants" and "Authentication").

A request pays one statement here: the session with its user, organization and the user's sites,
groups and provider state (resolvers/user_grants.py, the one loader), plus an occasional touch of
`last_seen_at`.
Nothing is cached across requests, so a deactivation, a removed group or a revoked session takes
effect on the very next request.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.sessions import Session
from models.users import StaffToken
from permissions.principal import Principal, PrincipalKind
from permissions.standing import Standing, denial_reason
from resolvers.context import RequestContext
from resolvers.credentials import STAFF_SESSION_PREFIX, token_hash
from resolvers.user_grants import load_session_access

USER_AGENT_MAX = 300  # the `user_agent` column of staff and portal sessions
TokenRow = TypeVar("TokenRow", bound=Model)


def opening_values(ctx: RequestContext, token: str, now: datetime) -> dict[str, Any]:
    """What a session row of either kind (staff, portal) records of its opening: the token's hash
    (never the token), its end `session_max_seconds` from `now`, and where it was opened from (the
    user agent cut to its column)."""
    return {
        "token_hash": token_hash(token),
        "expires_at": now + timedelta(seconds=ctx.settings.session_max_seconds),
        "ip_address": ctx.ip_address,
        "user_agent": (ctx.user_agent or "")[:USER_AGENT_MAX] or None,
    }


async def find_by_token(ctx: RequestContext, prefix: str, model: type[TokenRow], *related: str) -> TokenRow | None:
    """The unrevoked `model` row (a portal session, an API token) behind the request's bearer token,
    found by the token's hash with `related` loaded; None for a token of another kind (`prefix`
    says which), an unknown one or a revoked one. Expiry is the caller's to judge."""
    token = ctx.token or ""
    if not token.startswith(prefix):
        return None
    return await model.filter(token_hash=token_hash(token), revoked_at__isnull=True).select_related(*related).first()


def touch_interval(idle_seconds: int) -> timedelta:
    """How stale `last_seen_at` may get before a request writes it: saves a write per request
    while keeping the idle lock accurate to a tenth of the idle time (at most a minute)."""
    return timedelta(seconds=min(60.0, idle_seconds / 10))


def is_idle_locked(session: Session, now: datetime, idle_seconds: int) -> bool:
    return now - session.last_seen_at > timedelta(seconds=idle_seconds)


async def authenticate_staff(ctx: RequestContext) -> Principal | None:
    """The principal behind a staff session token, or None (unknown, revoked, expired, denied)."""
    token = ctx.token or ""
    if not token.startswith(STAFF_SESSION_PREFIX):
        return None
    now = ctx.now()
    found = await load_session_access(token_hash(token))
    if found is None or found.session.expires_at <= now:
        return None
    session, user, access = found.session, found.user, found.access
    if denial_reason(Standing.of(user, access.provider_status, access.provider_deactivate_at), now):
        return None
    active = access.sources(inactive_locations=False)
    locked = is_idle_locked(session, now, ctx.settings.session_idle_seconds)
    if not locked and now - session.last_seen_at > touch_interval(ctx.settings.session_idle_seconds):
        session.last_seen_at = now
        await Session.filter(id=session.id).update(last_seen_at=now)
    return Principal(
        kind=PrincipalKind.USER,
        organization=found.organization,
        grants=active.grants(),
        user=user,
        session=session,
        sites=active.reach(),
        locked=locked,
        password_reset_required=user.password_reset_required,
    )


async def end_sessions(user_id: str, reason: str, now: datetime, *, keep_session_id: str | None = None) -> int:
    """Revoke every live session of a user (but `keep_session_id`): effective on the next request."""
    query = Session.filter(user_id=user_id, revoked_at__isnull=True)
    if keep_session_id is not None:
        query = query.exclude(id=keep_session_id)
    return await query.update(revoked_at=now, revoked_reason=reason)


async def end_session_of(token: str, reason: str, now: datetime) -> int:
    """Revoke the session behind `token` (by its hash): for a session opened on the caller's behalf
    that nobody will hold, such as the one a registration page's accepted link opens."""
    return await Session.filter(token_hash=token_hash(token), revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason
    )


async def void_links(user_id: str, now: datetime) -> int:
    """A link dies with the credential it would set: every outstanding registration or reset link of
    the user is revoked when its password changes by any path, its access is disabled, it is
    deactivated, or its email is replaced (a link belongs to the address it was mailed to;
    docs/architecture.md, "Authentication")."""
    return await StaffToken.filter(user_id=user_id, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )


async def end_credentials(user_id: str, reason: str, now: datetime) -> None:
    """A standing that ended (the user deactivated, by hand or with its provider, or an expiry or a
    deactivation date passed) ends what it allowed: the user's sessions and links. Undoing it later (a
    new expiry, reactivating, calling the deactivation off) restores access, never a session or link
    from before: whether the job that applies a date ran first must not decide that
    (docs/architecture.md, "Authentication")."""
    await void_links(user_id, now)
    await end_sessions(user_id, reason, now)


def outstanding(user_id: str, now: datetime) -> QuerySet[StaffToken]:
    """The user's registration and reset links that could still be opened."""
    return StaffToken.filter(user_id=user_id, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


async def outstanding_links(user_id: str, now: datetime) -> bool:
    """Whether a registration or reset link of the user could still be opened."""
    return await outstanding(user_id, now).exists()
