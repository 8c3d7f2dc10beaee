"""Staff login access (article 004): enable for one or many, registration email now or later, disable,
and the registration link the invitee opens to set a password.

`accessStatus`: NO_ACCESS (a staff record only), INVITED (access enabled, the user has no password
yet: a registration email is pending or sent), ENABLED (can log in). INVITED and ENABLED users take
a seat; a batch that would pass the organization's seat limit fails whole. Changing someone's access
needs USERS_ACCESS_MANAGE at every one of their sites (an admin's only by an admin).

Links: one single-use token per purpose and user, stored as a SHA-256 hash, valid
`invitation_ttl_seconds` (72 hours); issuing a new one voids the old.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.enums import AccessStatus, EmailDelivery, StaffTokenPurpose
from models.organization import Organization
from models.users import StaffToken, User
from permissions.catalog import Permission
from permissions.principal import Principal
from permissions.standing import Standing, denial_reason
from resolvers import admins, audit, login_throttle, outbox
from resolvers.auth import LoginResult, open_session
from resolvers.context import RequestContext
from resolvers.credentials import (
    LINK_TOKEN_PREFIX,
    hash_secret,
    new_token,
    password_problem,
    pin_problem,
    token_hash,
)
from resolvers.errors import ChangeWarning, ErrorCode, InputError, Problems, WarningCode, fail
from resolvers.seats import check_seats
from resolvers.sessions import end_sessions, outstanding, void_links
from resolvers.user_grants import load_user_access
from resolvers.user_rules import Target, check_may_change, check_restore, check_takeover, load_target

INVITATION_INVALID_MESSAGE = "This link is not valid any more: ask your administrator for a new one."
# A link opened twice (a form sent twice, a second tab): the first set the password, which stands.
LINK_USED_MESSAGE = (
    "This link was already used: log in with the password it set, or ask your administrator for a new one."
)
_PATHS = {StaffTokenPurpose.REGISTRATION: "register", StaffTokenPurpose.PASSWORD_RESET: "reset-password"}
_TEMPLATES = {StaffTokenPurpose.REGISTRATION: "staff_registration", StaffTokenPurpose.PASSWORD_RESET: "password_reset"}


async def issue_link(ctx: RequestContext, organization: Organization, user: User, purpose: StaffTokenPurpose) -> str:
    """A new link for `user` (voiding any unused one of the same purpose), mailed through the outbox
    in the caller's transaction. Returns the link (tests read it; the API never shows it)."""
    now = ctx.now()
    await StaffToken.filter(user_id=user.id, purpose=purpose, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    token = new_token(LINK_TOKEN_PREFIX)
    expires_at = now + timedelta(seconds=ctx.settings.invitation_ttl_seconds)
    await StaffToken.create(
        organization_id=organization.id,
        user_id=user.id,
        purpose=purpose,
        token_hash=token_hash(token),
        expires_at=expires_at,
    )
    link = f"{ctx.settings.public_url.rstrip('/')}/{_PATHS[purpose]}?token={token}"
    await outbox.enqueue(
        ctx,
        template=_TEMPLATES[purpose],
        to=user.email or "",
        language=user.language,
        organization_id=organization.id,
        values={
            "first_name": user.first_name,
            "organization": organization.name,
            # What logging in asks for besides the password the link sets.
            "organization_slug": organization.slug,
            "username": user.username,
            "link": link,
            "expires": expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        },
    )
    return link


async def send_registration(ctx: RequestContext, organization: Organization, user: User) -> str:
    link = await issue_link(ctx, organization, user, StaffTokenPurpose.REGISTRATION)
    await User.filter(id=user.id).update(registration_email_sent_at=ctx.now())
    user.registration_email_sent_at = ctx.now()
    return link


async def send_password_reset(ctx: RequestContext, organization: Organization, user: User) -> str:
    return await issue_link(ctx, organization, user, StaffTokenPurpose.PASSWORD_RESET)


async def readdress_links(ctx: RequestContext, organization: Organization, user: User) -> list[StaffTokenPurpose]:
    """Staff replaced `user`'s email (already saved): a link belongs to the address it was mailed to,
    so each outstanding one dies and, if it could still be opened, is mailed anew to the new address
    (an admin correcting a typo expects the invitation to reach the right mailbox); with the email
    cleared, or a user who may not set a password now (`_may_open`), they only die. The caller has
    judged handing the account to the new address (`check_takeover`). Returns what was mailed anew,
    for the audit trail."""
    now = ctx.now()
    links = await outstanding(str(user.id), now)
    await void_links(str(user.id), now)
    renewed = sorted({link.purpose for link in links if user.email and await _may_open(link, user, now)})
    for purpose in renewed:
        if purpose is StaffTokenPurpose.REGISTRATION:
            await send_registration(ctx, organization, user)
        else:
            await send_password_reset(ctx, organization, user)
    return renewed


async def _targets(principal: Principal, user_ids: list[Any]) -> list[Target]:
    """Every target, each visible and changeable (USERS_ACCESS_MANAGE at all its sites); problems are
    reported at their index, all at once."""
    problems = Problems()
    targets: list[Target] = []
    seen: set[str] = set()
    if not user_ids:
        problems.add(ErrorCode.REQUIRED, "Select at least one user.", "input", "userIds")
    for index, raw in enumerate(user_ids):
        path = ("input", "userIds", str(index))
        try:
            target = await load_target(principal, raw, *path, lock=True)
            check_may_change(principal, target, Permission.USERS_ACCESS_MANAGE, *path)
        except InputError as error:  # collect and go on, so the caller sees every problem
            problems.extend(error.problems)
            continue
        if str(target.user.id) not in seen:
            seen.add(str(target.user.id))
            targets.append(target)
    problems.raise_if_any()
    return targets


def _indexed(user_ids: list[Any], target: Target) -> tuple[str, ...]:
    for index, raw in enumerate(user_ids):
        if str(raw).lower() == str(target.user.id):
            return ("input", "userIds", str(index))
    return ("input", "userIds")


async def enable_access(
    ctx: RequestContext,
    user_ids: list[Any],
    delivery: EmailDelivery = EmailDelivery.SEND_NOW,
    warnings: list[ChangeWarning] | None = None,
) -> list[User]:
    """Enable login access for one or many users; the seat count covers the whole batch first.

    `warnings` (when given) receives, at each user's index, what the caller should know: SEND_NOW to
    someone who already has a password sends nothing (they log in with it), and a user with no
    permission group (not an admin) can log in but do nothing else (article 004)."""
    principal = await ctx.require_principal()
    now = ctx.now()
    async with in_transaction():
        await admins.lock_grants(principal)
        targets = await _targets(principal, user_ids)
        problems = Problems()
        for target in targets:
            user, path = target.user, _indexed(user_ids, target)
            if user.access_status is AccessStatus.NO_ACCESS and user.password_hash is None and not user.email:
                problems.add(ErrorCode.INVALID, "Enabling access needs an email address.", *path)
            # Enabling restores the user's grants; a registration link hands over the account.
            restoring = user.access_status is AccessStatus.NO_ACCESS
            linking = user.password_hash is None and delivery == EmailDelivery.SEND_NOW
            if restoring or linking:
                try:
                    if restoring:
                        check_restore(principal, user.id, target.access.configured, *path)
                    else:
                        check_takeover(principal, user.id, target.access.configured, *path)
                except InputError as error:
                    problems.extend(error.problems)
        problems.raise_if_any()
        # A deactivated user takes its seat when reactivated (resolvers/seats.py), not now.
        newcomers = [t for t in targets if t.user.access_status is AccessStatus.NO_ACCESS and t.user.is_active]
        await check_seats(principal, len(newcomers), "input", "userIds")
        result: list[User] = []
        for target in targets:
            user = target.user
            before = user.access_status
            if before is AccessStatus.NO_ACCESS:
                await void_links(str(user.id), now)  # a link sent while disabled does not come back to life
                # A user who already has a password (access disabled earlier) logs in again at once.
                status = AccessStatus.ENABLED if user.password_hash else AccessStatus.INVITED
                await User.filter(id=user.id).update(access_status=status, version=F("version") + 1, updated_at=now)
                user = await User.get(id=user.id)
            if user.access_status is AccessStatus.INVITED and delivery == EmailDelivery.SEND_NOW:
                await send_registration(ctx, principal.organization, user)
            if warnings is not None:
                warnings.extend(_enable_warnings(target, user, delivery, _indexed(user_ids, target)))
            await audit.record(
                ctx,
                "user.access_enable",
                about=user,
                changes={
                    **audit.diff({"access_status": before}, {"access_status": user.access_status}),
                    "registrationEmail": delivery.value if user.access_status is AccessStatus.INVITED else None,
                },
            )
            result.append(user)
    return result


def _enable_warnings(target: Target, user: User, delivery: EmailDelivery, path: tuple[str, ...]) -> list[ChangeWarning]:
    found = []
    if delivery == EmailDelivery.SEND_NOW and user.password_hash is not None:
        found.append(
            ChangeWarning(
                WarningCode.REGISTRATION_EMAIL_NOT_SENT,
                f"{user.username} already has a password: access is enabled and no registration email was sent "
                "(they log in with their password; resetCredentials sends a reset link).",
                path,
            )
        )
    if not user.is_admin and not target.access.groups:
        found.append(
            ChangeWarning(
                WarningCode.NO_PERMISSION_GROUP,
                f"{user.username} is in no permission group: they can log in but do nothing else until added to one.",
                path,
            )
        )
    return found


async def disable_access(ctx: RequestContext, user_ids: list[Any]) -> list[User]:
    """Back to NO_ACCESS: sessions end, pending links are voided, the seat is freed."""
    principal = await ctx.require_principal()
    now = ctx.now()
    async with in_transaction():
        await admins.lock_grants(principal)
        targets = await _targets(principal, user_ids)
        result: list[User] = []
        for target in targets:
            user = target.user
            before = user.access_status
            if before is not AccessStatus.NO_ACCESS:
                await User.filter(id=user.id).update(
                    access_status=AccessStatus.NO_ACCESS, version=F("version") + 1, updated_at=now
                )
                await void_links(str(user.id), now)
                await end_sessions(str(user.id), "ACCESS_DISABLED", now)
                user = await User.get(id=user.id)
            await audit.record(
                ctx,
                "user.access_disable",
                about=user,
                changes=audit.diff({"access_status": before}, {"access_status": user.access_status}),
            )
            result.append(user)
        if any(t.user.is_admin for t in targets):
            await admins.ensure_admin_remains(principal.organization.id, "input", "userIds")
    return result


async def send_registration_email(ctx: RequestContext, user_ids: list[Any]) -> list[User]:
    """(Re)send the registration email to INVITED users: a new link, the old one void."""
    principal = await ctx.require_principal()
    async with in_transaction():
        await admins.lock_grants(principal)
        targets = await _targets(principal, user_ids)
        problems = Problems()
        for target in targets:
            path = _indexed(user_ids, target)
            if target.user.access_status is not AccessStatus.INVITED:
                problems.add(ErrorCode.INVALID, "Only an invited user (access enabled, no password) gets one.", *path)
            elif not target.user.email:
                problems.add(ErrorCode.INVALID, "This user has no email address.", *path)
            else:
                try:
                    check_takeover(principal, target.user.id, target.access.configured, *path)
                except InputError as error:
                    problems.extend(error.problems)
        problems.raise_if_any()
        result = []
        for target in targets:
            await send_registration(ctx, principal.organization, target.user)
            await audit.record(ctx, "user.registration_email", about=target.user)
            result.append(target.user)
    return result


async def _may_open(found: StaffToken, user: User, now: datetime) -> bool:
    """Whether the link's user may set its password now: a registration link needs an INVITED user,
    a reset link an ENABLED one, and either a user who may otherwise act (active, not expired, no
    passed provider deactivation: the one standing rule)."""
    wanted = AccessStatus.INVITED if found.purpose is StaffTokenPurpose.REGISTRATION else AccessStatus.ENABLED
    if user.access_status is not wanted:
        return False
    access = await load_user_access(user.organization_id, user.id)
    standing = Standing.of(user, access.provider_status, access.provider_deactivate_at)
    # Judged as if enabled: the access status was checked against the link's purpose above.
    return denial_reason(replace(standing, access_status=AccessStatus.ENABLED), now) is None


async def _find_link(token: str | None) -> StaffToken | None:
    return (
        await StaffToken.filter(token_hash=token_hash((token or "").strip()))
        .select_related("user", "user__organization")
        .first()
    )


async def _usable(found: StaffToken | None, now: datetime) -> bool:
    """Unused, not revoked, not expired, and its user may set a password now (`_may_open`)."""
    return (
        found is not None
        and found.user is not None
        and found.used_at is None
        and found.revoked_at is None
        and found.expires_at > now
        and await _may_open(found, found.user, now)
    )


def _refusal(found: StaffToken | None) -> str:
    """Why a link opens nothing, told to whoever holds it: used already (the password it set stands),
    or not valid any more (unknown, revoked, expired, its user may not log in)."""
    return LINK_USED_MESSAGE if found is not None and found.used_at is not None else INVITATION_INVALID_MESSAGE


async def link_problem(token: str | None, now: datetime) -> str | None:
    """Why `accept_staff_invitation` would refuse this link now (None: it would take it), before any
    password is judged: read only (nothing audited or written), so the page a link opens can say at
    once that it is dead rather than after the form is filled."""
    found = await _find_link(token)
    return None if await _usable(found, now) else _refusal(found)


async def accept_staff_invitation(ctx: RequestContext, token: str, password: str, pin: str | None) -> LoginResult:
    """Open a registration (or password reset) link: set the password (and PIN), get a session.

    Public. An unknown, used, revoked or expired token is INVITATION_INVALID, and so is one whose user
    may no longer log in (deactivated, expired, access disabled).
    """
    now = ctx.now()
    found = await _find_link(token)
    user = found.user if found else None
    if not await _usable(found, now):
        await audit.record(ctx, "auth.invitation_invalid", organization_id=user.organization_id if user else None)
        raise fail(ErrorCode.INVITATION_INVALID, _refusal(found), "input", "token")
    assert found is not None and user is not None
    problems = Problems()
    if problem := password_problem(password, user.username):
        problems.add(ErrorCode.PASSWORD_TOO_WEAK, problem, "input", "password")
    if pin is not None and (problem := pin_problem(pin)):
        problems.add(ErrorCode.INVALID, problem, "input", "pin")
    problems.raise_if_any()
    values: dict[str, Any] = {
        "password_hash": hash_secret(password),
        "password_reset_required": False,
        "access_status": AccessStatus.ENABLED,
        "updated_at": now,
    }
    if pin is not None:
        values["pin_hash"] = hash_secret(pin)
    async with in_transaction():
        # The user row first, then its tokens: the order every mutation that voids links takes, so
        # a link opened while an admin disables the user cannot deadlock with it (PostgreSQL).
        await User.filter(id=user.id).select_for_update().first()
        # Single use even under a race: only the request that flips used_at goes on.
        claimed = await StaffToken.filter(id=found.id, used_at__isnull=True, revoked_at__isnull=True).update(
            used_at=now
        )
        if claimed != 1:  # opened at the same moment (it set the password), or voided meanwhile
            raise fail(ErrorCode.INVITATION_INVALID, _refusal(await _find_link(token)), "input", "token")
        await User.filter(id=user.id).update(**values, version=F("version") + 1)
        # The password is set: every other link of the user dies with the one just used.
        await void_links(str(user.id), now)
        if found.purpose is StaffTokenPurpose.PASSWORD_RESET:
            await end_sessions(str(user.id), "PASSWORD_RESET", now)
        user = await User.get(id=user.id).select_related("organization")
        await audit.record(
            ctx,
            "auth.invitation_accept" if found.purpose is StaffTokenPurpose.REGISTRATION else "auth.password_reset",
            organization_id=user.organization_id,
            about=user,
            actor_kind=None,
            changes={"pinSet": pin is not None},
        )
        opened = await open_session(ctx, user, user.organization_id)
    # Committed: guesses at the old password no longer lock the user out.
    await login_throttle.forget(ctx, user.organization_id, user.username_key)
    return opened
