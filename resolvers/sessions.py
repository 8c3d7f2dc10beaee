"""Turning a bearer token into a principal, and a user into grants (DESIGN §3, §4).

A request pays at most two statements here: the session with its user and organization, then the
user's sites, groups and provider state in one UNION. Nothing is cached across requests, so a
deactivation, a removed group or a revoked session takes effect on the very next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.db import fetch_all
from models.enums import AccessStatus, ProviderStatus
from models.sessions import Session
from models.users import User
from permissions.catalog import parse_codes
from permissions.grants import ALL, NO_GRANTS, Grants, GroupGrant, compute_grants
from permissions.principal import Principal, PrincipalKind
from resolvers.context import RequestContext
from resolvers.credentials import STAFF_SESSION_PREFIX, token_hash

_GRANTS_SQL = """
SELECT 'site' AS kind, CAST(ul.location_id AS TEXT) AS a, NULL AS b, NULL AS c
  FROM user_locations ul JOIN locations l ON l.id = ul.location_id
 WHERE ul.organization_id = ? AND ul.user_id = ? AND l.is_active = TRUE
UNION ALL
SELECT 'group', CAST(g.id AS TEXT), g.permission_codes, CASE WHEN g.all_locations THEN '1' ELSE '0' END
  FROM group_memberships m JOIN permission_groups g ON g.id = m.group_id
 WHERE m.organization_id = ? AND m.user_id = ?
UNION ALL
SELECT 'group_location', CAST(gl.group_id AS TEXT), CAST(gl.location_id AS TEXT), NULL
  FROM group_memberships m
  JOIN group_locations gl ON gl.organization_id = m.organization_id AND gl.group_id = m.group_id
  JOIN locations l ON l.id = gl.location_id
 WHERE m.organization_id = ? AND m.user_id = ? AND l.is_active = TRUE
UNION ALL
SELECT 'provider', CAST(p.status AS TEXT), CAST(p.deactivate_at AS TEXT), NULL
  FROM providers p
 WHERE p.user_id = ?
"""


@dataclass(frozen=True)
class UserAccessData:
    """What the grants statement returns for one user."""

    site_ids: frozenset[str]
    groups: tuple[GroupGrant, ...]
    provider_status: str | None
    provider_deactivate_at: datetime | None


async def load_access_data(user_id: str, organization_id: str) -> UserAccessData:
    """The user's active sites, groups (with their active locations) and provider state: one statement.

    Every lookup names the organization: the link tables' indexes lead with it (DESIGN §6)."""
    uid, oid = str(user_id), str(organization_id)
    rows = await fetch_all(_GRANTS_SQL, [oid, uid, oid, uid, oid, uid, uid])
    sites: set[str] = set()
    groups: dict[str, tuple[str, bool]] = {}
    group_locations: dict[str, set[str]] = {}
    provider_status: str | None = None
    deactivate_at: datetime | None = None
    for row in rows:
        kind, a, b, c = row["kind"], row["a"], row["b"], row["c"]
        if kind == "site":
            sites.add(str(a))
        elif kind == "group":
            groups[str(a)] = (b or "", str(c).lower() in {"1", "true", "t"})
        elif kind == "group_location":
            group_locations.setdefault(str(a), set()).add(str(b))
        elif kind == "provider":
            provider_status = a
            deactivate_at = datetime.fromisoformat(b) if b else None
    return UserAccessData(
        site_ids=frozenset(sites),
        groups=tuple(
            GroupGrant(
                permissions=frozenset(parse_codes(codes)),
                all_locations=all_locations,
                location_ids=frozenset(group_locations.get(gid, ())),
            )
            for gid, (codes, all_locations) in groups.items()
        ),
        provider_status=provider_status,
        provider_deactivate_at=deactivate_at,
    )


def denial_reason(user: User, access: UserAccessData | None, now: datetime) -> str | None:
    """Why this user may not act at all right now, or None. Checked on every request and login."""
    if not user.is_active:
        return "ACCOUNT_INACTIVE"
    if user.expires_at is not None and user.expires_at <= now:
        return "ACCOUNT_EXPIRED"
    if user.access_status is not AccessStatus.ENABLED:
        return "ACCESS_NOT_ENABLED"
    if access is not None and provider_gone(access, now):
        return "ACCOUNT_INACTIVE"
    return None


def provider_gone(access: UserAccessData, now: datetime) -> bool:
    """The user's provider profile is inactive, or its scheduled deactivation date has passed."""
    if access.provider_status == ProviderStatus.INACTIVE.value:
        return True
    return access.provider_deactivate_at is not None and access.provider_deactivate_at <= now


def grants_from(user: User, access: UserAccessData) -> Grants:
    return compute_grants(
        is_admin=user.is_admin,
        all_locations=user.all_locations,
        site_ids=access.site_ids,
        groups=access.groups,
    )


async def user_grants(user: User, now: datetime) -> Grants:
    """A user's grants as they stand (NO_GRANTS for one who may not act): used by escalation checks."""
    access = await load_access_data(str(user.id), str(user.organization_id))
    if denial_reason(user, access, now):
        return NO_GRANTS
    return grants_from(user, access)


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
    session = (
        await Session.filter(token_hash=token_hash(token), revoked_at__isnull=True)
        .select_related("user", "user__organization")
        .first()
    )
    if session is None or session.expires_at <= now:
        return None
    user = session.user
    access = await load_access_data(str(user.id), str(user.organization_id))
    if denial_reason(user, access, now):
        return None
    locked = is_idle_locked(session, now, ctx.settings.session_idle_seconds)
    if not locked and now - session.last_seen_at > touch_interval(ctx.settings.session_idle_seconds):
        session.last_seen_at = now
        await Session.filter(id=session.id).update(last_seen_at=now)
    return Principal(
        kind=PrincipalKind.USER,
        organization=user.organization,
        grants=grants_from(user, access),
        user=user,
        session=session,
        sites=ALL if user.is_admin or user.all_locations else access.site_ids,
        locked=locked,
        password_reset_required=user.password_reset_required,
    )


async def end_sessions(user_id: str, reason: str, now: datetime, *, keep_session_id: str | None = None) -> int:
    """Revoke every live session of a user (but `keep_session_id`): effective on the next request."""
    query = Session.filter(user_id=user_id, revoked_at__isnull=True)
    if keep_session_id is not None:
        query = query.exclude(id=keep_session_id)
    return await query.update(revoked_at=now, revoked_reason=reason)
