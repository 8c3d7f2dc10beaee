"""Staff authentication: login, logout, password change, PIN unlock, sessions (docs/architecture.md "Authentication").

No enumeration: until the password is proven right, every failure answers INVALID_CREDENTIALS with
one message, and an unknown username is still verified against a dummy hash so timing tells
nothing either. A login costs one argon2 verify and at most three statements: the lookup (user,
organization, provider state and throttle counters in one), the session or attempt, the audit event.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from models.keys import search_key
from models.organization import Organization
from models.sessions import Session
from models.sql import fetch_all, write_returning
from models.users import User
from permissions.principal import Principal
from permissions.standing import Standing, denial_reason
from resolvers import audit, login_throttle, metrics
from resolvers.context import RequestContext
from resolvers.credentials import (
    STAFF_SESSION_PREFIX,
    hash_secret,
    new_token,
    password_problem,
    verify_secret,
)
from resolvers.errors import ErrorCode, fail
from resolvers.sessions import end_sessions, opening_values, void_links
from resolvers.throttle import (
    USER_FAILURE_WINDOW,
    ThrottleState,
    login_lock,
    throttle_address,
)

INVALID_CREDENTIALS_MESSAGE = "The organization, username or password is not right."
THROTTLED_MESSAGE = "Too many failed attempts: try again later."
PIN_FAILURE_LIMIT = 5

_DENIAL_MESSAGES = {
    "ACCOUNT_INACTIVE": "This account has been deactivated. Ask your administrator.",
    "ACCOUNT_EXPIRED": "This account has expired. Ask your administrator.",
    "ACCESS_NOT_ENABLED": "Login access is not enabled for this account. Ask your administrator.",
}

_LOOKUP_SQL = """
SELECT o.id AS org_id, o.name AS org_name, o.slug AS org_slug, o.seat_limit AS org_seat_limit,
       o.created_at AS org_created_at, o.updated_at AS org_updated_at,
       p.status AS provider_status, CAST(p.deactivate_at AS TEXT) AS provider_deactivate_at,
       (SELECT COUNT(*) FROM login_attempts a
         WHERE a.organization_id = o.id AND a.username_key = ? AND a.ip_address = ?
           AND a.outcome = 'FAILED' AND a.created_at > ?) AS ip_failures,
       (SELECT COUNT(*) FROM login_attempts a
         WHERE a.organization_id = o.id AND a.username_key = ?
           AND a.outcome = 'FAILED' AND a.created_at > ?) AS user_failures,
       (SELECT MAX(a.ip_locked_until) FROM login_attempts a
         WHERE a.organization_id = o.id AND a.username_key = ? AND a.ip_address = ?) AS ip_locked_until,
       (SELECT MAX(a.user_locked_until) FROM login_attempts a
         WHERE a.organization_id = o.id AND a.username_key = ?) AS user_locked_until,
       u.*
  FROM organizations o
  LEFT JOIN users u ON u.organization_id = o.id AND u.username_key = ?
  LEFT JOIN providers p ON p.user_id = u.id
 WHERE o.slug = ?
"""


@dataclass
class LoginResult:
    token: str
    expires_at: datetime
    user: User
    password_reset_required: bool


@dataclass
class _Lookup:
    organization: Organization
    user: User | None
    throttle: ThrottleState
    provider_status: str | None
    provider_deactivate_at: datetime | None


async def _lookup(slug: str, username_key: str, ip: str, now: datetime, throttle_seconds: int) -> _Lookup | None:
    now_ts = int(now.timestamp())
    ip_since = now_ts - throttle_seconds
    user_since = now_ts - int(USER_FAILURE_WINDOW.total_seconds())
    rows = await fetch_all(
        _LOOKUP_SQL,
        [username_key, ip, ip_since, username_key, user_since, username_key, ip, username_key, username_key, slug],
    )
    if not rows:
        return None
    row = rows[0]
    organization = Organization._init_from_db(
        id=row["org_id"],
        name=row["org_name"],
        slug=row["org_slug"],
        seat_limit=row["org_seat_limit"],
        created_at=row["org_created_at"],
        updated_at=row["org_updated_at"],
    )
    user = User._init_from_db(**row) if row.get("id") is not None else None
    if user is not None:
        user._organization = organization  # the joined row: saves a statement when read
    deactivate_at = row["provider_deactivate_at"]
    return _Lookup(
        organization=organization,
        user=user,
        throttle=ThrottleState(
            now_ts=now_ts,
            ip_failures=int(row["ip_failures"] or 0),
            user_failures=int(row["user_failures"] or 0),
            ip_locked_until=row["ip_locked_until"],
            user_locked_until=row["user_locked_until"],
        ),
        provider_status=str(row["provider_status"]) if row["provider_status"] is not None else None,
        provider_deactivate_at=datetime.fromisoformat(deactivate_at) if deactivate_at else None,
    )


USERNAME_KEY_MAX = 150  # users.username_key and login_attempts.username_key


def login_key(username: str) -> str:
    """The key a login attempt is looked up and throttled by: the username's `search_key`. One too
    long to be any user's is replaced by its digest, so it is still throttled (and can be stored)
    but can never be cut down to match a real username."""
    key = search_key(username.strip())
    if len(key) <= USERNAME_KEY_MAX:
        return key
    return "~sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


async def login(ctx: RequestContext, organization_slug: str, username: str, password: str) -> LoginResult:
    """Open a staff session, or raise an InputError with the one code the caller may be told."""
    slug = organization_slug.strip().lower()
    username_key = login_key(username)
    # Attempts for one username take turns: the throttle's count must include the previous guess.
    async with login_lock(slug, username_key):
        return await _login(ctx, slug, username_key, password)


async def _login(ctx: RequestContext, slug: str, username_key: str, password: str) -> LoginResult:
    now = ctx.now()
    ip = throttle_address(ctx.ip_address)
    found = await _lookup(slug, username_key, ip, now, ctx.settings.login_throttle_seconds)
    org_id = found.organization.id if found else None
    turn = await login_throttle.begin(ctx, org_id, username_key, ip, known=found.throttle) if found else None
    if turn is not None and turn.state.throttled:
        metrics.LOGIN_THROTTLED.labels("staff").inc()
        await audit.record(ctx, "auth.login_throttled", organization_id=org_id, changes={"username": username_key})
        raise fail(ErrorCode.LOGIN_THROTTLED, THROTTLED_MESSAGE)

    user = found.user if found else None
    if not verify_secret(user.password_hash if user else None, password):
        if turn is not None:
            await login_throttle.failed(ctx, org_id, turn, username_key, ip)
        metrics.LOGIN_FAILURES.labels("staff").inc()
        await audit.record(
            ctx, "auth.login_failed", organization_id=org_id, about=user, changes={"username": username_key}
        )
        raise fail(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS_MESSAGE)

    assert found is not None and user is not None and turn is not None
    await login_throttle.succeeded(ctx, turn)
    if reason := denial_reason(_standing(found), now):
        await audit.record(ctx, "auth.login_denied", organization_id=org_id, about=user, changes={"reason": reason})
        raise fail(ErrorCode(reason), _DENIAL_MESSAGES[reason])

    return await open_session(ctx, user, org_id)


async def open_session(ctx: RequestContext, user: User, org_id: Any) -> LoginResult:
    """A new staff session for a user whose credentials were just proven (login, or an accepted
    registration link), with its audit event; the rest of the request acts as that session."""
    now = ctx.now()
    token = new_token(STAFF_SESSION_PREFIX)
    async with in_transaction():  # no session without its audit event
        # Bound to the password just proven, read again under the user's row lock (PostgreSQL `FOR
        # UPDATE`; SQLite's transactions are IMMEDIATE): a change or reset that committed while argon2
        # ran (it ended every session) leaves this login with none, and one still to come waits for
        # this session and ends it too. Else an old password, tried in a loop, outlives its reset.
        current = await User.filter(id=user.id).select_for_update().first()
        if current is None or current.password_hash != user.password_hash:
            raise fail(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS_MESSAGE)
        session = await Session.create(
            organization_id=org_id, user_id=user.id, last_seen_at=now, **opening_values(ctx, token, now)
        )
        await audit.record(ctx, "auth.login", organization_id=org_id, about=session, by=user)
    ctx.act_as(token)
    return LoginResult(token, session.expires_at, user, user.password_reset_required)


def _standing(found: _Lookup) -> Standing:
    """The user's standing from what the lookup already read (its provider's state included)."""
    assert found.user is not None
    return Standing.of(found.user, found.provider_status, found.provider_deactivate_at)


async def logout(ctx: RequestContext) -> None:
    principal = await ctx.require_principal(allow_locked=True, allow_reset=True)
    assert principal.session is not None
    now = ctx.now()
    async with in_transaction():
        await Session.filter(id=principal.session.id, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason="LOGOUT"
        )
        await audit.record(ctx, "auth.logout", about=principal.session)


async def confirm_password(ctx: RequestContext, principal: Principal, password: str, action: str) -> None:
    """The signed-in staff user proves it knows its current password (the input's `currentPassword`),
    as changing the password, the email or the PIN asks: a session left open on a front-desk computer
    must not be enough to take the account over for good. A refusal is audited as `<action>_failed`
    (or `_throttled`).

    Guessing the current password here is guessing a password: it shares the login throttle (same
    counters, same key), or a stolen session would be an unthrottled password oracle."""
    user = principal.user
    assert user is not None
    ip = throttle_address(ctx.ip_address)
    async with login_lock(principal.organization.slug, user.username_key):
        turn = await login_throttle.begin(ctx, principal.organization.id, user.username_key, ip)
        if turn.state.throttled:
            await audit.record(ctx, f"{action}_throttled", about=user)
            raise fail(ErrorCode.LOGIN_THROTTLED, THROTTLED_MESSAGE, "input", "currentPassword")
        if not verify_secret(user.password_hash, password):
            await login_throttle.failed(ctx, principal.organization.id, turn, user.username_key, ip)
            await audit.record(ctx, f"{action}_failed", about=user)
            raise fail(ErrorCode.INVALID_CREDENTIALS, "The current password is not right.", "input", "currentPassword")
        await login_throttle.succeeded(ctx, turn)


async def change_password(ctx: RequestContext, current_password: str, new_password: str) -> None:
    """Set a new password; every other session of the user ends (this one stays)."""
    principal = await ctx.require_principal(allow_reset=True)
    user = principal.user
    assert user is not None and principal.session is not None
    await confirm_password(ctx, principal, current_password, "auth.password_change")
    if problem := password_problem(new_password, user.username):
        raise fail(ErrorCode.PASSWORD_TOO_WEAK, problem, "input", "newPassword")
    if new_password == current_password:
        raise fail(ErrorCode.PASSWORD_TOO_WEAK, "Choose a password you have not been using.", "input", "newPassword")
    now = ctx.now()
    async with in_transaction():
        await User.filter(id=user.id).update(
            password_hash=hash_secret(new_password), password_reset_required=False, updated_at=now
        )
        ended = await end_sessions(str(user.id), "PASSWORD_CHANGED", now, keep_session_id=str(principal.session.id))
        await void_links(str(user.id), now)
        await audit.record(
            ctx,
            "auth.password_change",
            about=user,
            changes={"otherSessionsEnded": ended},
        )
    user.password_reset_required = False
    principal.password_reset_required = False


# Counts a PIN attempt before it is checked, in one atomic statement (SQLite >= 3.35 and
# PostgreSQL both have RETURNING): parallel guesses each get a numbered turn.
_TAKE_PIN_TURN_SQL = """
UPDATE sessions SET pin_failures = pin_failures + 1
 WHERE id = ? AND revoked_at IS NULL
RETURNING pin_failures
"""
PIN_ENDED_MESSAGE = "Too many wrong PINs: the session has ended. Log in again."


async def _take_pin_turn(session_id: str) -> int | None:
    """This attempt's number (None when the session has ended)."""
    rows = await write_returning(_TAKE_PIN_TURN_SQL, [session_id])
    return int(rows[0]["pin_failures"]) if rows else None


async def unlock_with_pin(ctx: RequestContext, pin: str) -> None:
    """Unlock an idle-locked session. Five wrong PINs end it.

    The attempt is counted before the PIN is checked and only turns 1 to 5 are checked at all, so
    a burst of parallel guesses gets five, not as many as it sends (reading the count from the
    session and writing count + 1 afterwards let every racing request see "4 so far")."""
    principal = await ctx.require_principal(allow_locked=True, allow_reset=True)
    user, session = principal.user, principal.session
    assert user is not None and session is not None
    now = ctx.now()
    if user.pin_hash is None:
        raise fail(
            ErrorCode.INVALID, "No PIN is set for this account: log in again with your password.", "input", "pin"
        )
    turn = await _take_pin_turn(str(session.id))
    if turn is None or turn > PIN_FAILURE_LIMIT:
        # Ended meanwhile, or past the fifth turn: not checked; the session ends (if not already).
        await Session.filter(id=session.id, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason="PIN_FAILURES"
        )
        raise fail(ErrorCode.INVALID_CREDENTIALS, PIN_ENDED_MESSAGE, "input", "pin")
    if verify_secret(user.pin_hash, pin):
        async with in_transaction():
            await Session.filter(id=session.id, revoked_at__isnull=True).update(last_seen_at=now, pin_failures=0)
            await audit.record(ctx, "auth.unlock", about=session)
        session.last_seen_at = now
        session.pin_failures = 0
        principal.locked = False
        return
    ended = turn >= PIN_FAILURE_LIMIT
    async with in_transaction():
        if ended:
            await Session.filter(id=session.id, revoked_at__isnull=True).update(
                revoked_at=now, revoked_reason="PIN_FAILURES"
            )
        await audit.record(
            ctx,
            "auth.unlock_failed",
            about=session,
            changes={"failures": turn, "sessionEnded": ended},
        )
    if ended:
        raise fail(ErrorCode.INVALID_CREDENTIALS, PIN_ENDED_MESSAGE, "input", "pin")
    raise fail(ErrorCode.INVALID_CREDENTIALS, "The PIN is not right.", "input", "pin")


async def my_sessions(ctx: RequestContext) -> list[Session]:
    # Not for a session that must change its password first (docs/architecture.md "Principals and grants": only
    # changePassword,
    # logout and viewer).
    principal = await ctx.require_principal()
    assert principal.user is not None
    return await Session.filter(user_id=principal.user.id, revoked_at__isnull=True, expires_at__gt=ctx.now()).order_by(
        "-created_at"
    )


async def revoke_session(ctx: RequestContext, session_id: str) -> None:
    """End one of one's own sessions (another user's is NOT_FOUND, as is a random id)."""
    principal = await ctx.require_principal()
    assert principal.user is not None
    try:
        sid = uuid.UUID(str(session_id))
    except ValueError:
        raise fail(ErrorCode.NOT_FOUND, "No such session.", "id") from None
    async with in_transaction():
        count = await Session.filter(id=sid, user_id=principal.user.id, revoked_at__isnull=True).update(
            revoked_at=ctx.now(), revoked_reason="REVOKED"
        )
        if not count:
            raise fail(ErrorCode.NOT_FOUND, "No such session.", "id")
        await audit.record(ctx, "auth.session_revoke", target_type=audit.Target.SESSION, target_id=sid)
