"""Staff users (article 000): create in four parts, update, deactivate, reset credentials, and one's
own profile: the write operations. Each checks its input (resolvers/user_input.py), asks the rules
(resolvers/user_rules.py), writes, and records its audit event, all in one transaction.

The rules of docs/architecture.md "Principals and grants" as they apply to these writes:
- a target out of the viewer's scope (or another organization's, or a malformed id) is NOT_FOUND;
- changing a user needs the permission at EVERY one of the target's sites (`check_may_change`), and
  only an admin changes an admin or grants `isAdmin`;
- any change adding to the target's grants (groups, sites, allLocations, isAdmin) must be covered by
  the actor's own grants: the target's grants are computed before and after and compared
  (`check_escalation`); the whole input is refused with FORBIDDEN at the field;
- no change leaves the organization without an acting admin (resolvers/admins.py);
- a user whose access is enabled takes a seat (resolvers/seats.py);
- everything happens in one transaction with its audit event; updates are optimistic
  (`WHERE version = expected`), so two admins saving at once never lose an update.

Reading users is in resolvers/user_queries.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.enums import AccessStatus, BillingRole, EmailDelivery
from models.groups import GroupMembership
from models.keys import search_key
from models.organization import Location
from models.providers import Provider
from models.users import User, UserLocation
from permissions.catalog import Permission
from permissions.errors import forbidden
from permissions.grants import NO_SOURCES, GrantSources, GroupGrant
from permissions.principal import Principal
from permissions.scoping import can_change_user
from resolvers import access, admins, audit, login_throttle
from resolvers.auth import confirm_password
from resolvers.billing import (
    billing_number_problems,
    normalize_billing_number,
    provincial_number_problem,
    unique_billing_write,
)
from resolvers.context import RequestContext
from resolvers.credentials import hash_secret, password_problem
from resolvers.errors import ErrorCode, Problems, fail
from resolvers.inputs import given
from resolvers.seats import check_seats
from resolvers.sessions import end_credentials, end_sessions, outstanding_links, void_links
from resolvers.user_input import (
    CreateUserData,
    ProfileData,
    UpdateUserData,
    hashed_pin,
    resolve_groups,
    resolve_sites,
    valid_email,
    valid_expiry,
    valid_name,
    valid_phone,
    valid_username,
)
from resolvers.user_rules import (
    Target,
    actor_is_admin,
    check_escalation,
    check_may_assign_sites,
    check_may_change,
    check_restore,
    check_takeover,
    load_target,
)

# The user fields an audit event records as [before, after] (never a password or PIN hash).
AUDITED = (
    "username",
    "first_name",
    "last_name",
    "type",
    "email",
    "phone",
    "is_admin",
    "is_active",
    "expires_at",
    "password_reset_required",
    "access_status",
    "all_locations",
)
# Billing numbers follow a province's format: this one's when none of the user's locations has one.
DEFAULT_PROVINCE = "ON"


async def _username_free(org_id: Any, username: str, except_id: Any = None, *path: str) -> None:
    """DUPLICATE at `path` when another user of the organization has this username (any case)."""
    query = User.filter(organization_id=org_id, username_key=search_key(username))
    if except_id is not None:
        query = query.exclude(id=except_id)
    if await query.exists():
        raise fail(ErrorCode.DUPLICATE, "This username is already taken.", *path)


async def _guard_unique(action: Any, *path: str) -> Any:
    """A write that may hit the username index, inside a savepoint (PostgreSQL aborts the whole
    transaction after a caught IntegrityError otherwise)."""
    try:
        async with in_transaction():
            return await action()
    except IntegrityError:
        raise fail(ErrorCode.DUPLICATE, "This username is already taken.", *path) from None


def _snapshot(user: User, sites: Any = None, groups: Any = None) -> dict[str, Any]:
    """The audited fields of `user`, with its sites and groups when given, for `audit.diff`."""
    values = audit.snapshot(user, AUDITED)
    if sites is not None:
        values["location_ids"] = sorted(str(s) for s in sites)
    if groups is not None:
        values["permission_group_ids"] = sorted(str(g) for g in groups)
    return values


# --------------------------------------------------------------------------- create


async def create_user(ctx: RequestContext, data: CreateUserData) -> User:
    """Avaros "Add User" in its four parts; access enabled by default (registration email now or later)."""
    principal = await ctx.require_principal()
    org_id = principal.organization.id
    now = ctx.now()
    problems = Problems()
    login, contact, sites = data.login, data.contact, data.sites
    username = valid_username(login.username, problems, "input", "login", "username")
    password_hash = None
    if login.password is not None:
        if problem := password_problem(login.password, username or login.username):
            problems.add(ErrorCode.PASSWORD_TOO_WEAK, problem, "input", "login", "password")
        else:
            password_hash = hash_secret(login.password)
    pin_hash = hashed_pin(login.pin, problems, "input", "login", "pin")
    valid_expiry(login.expires_at, now, problems, "input", "login", "expiresAt")
    first_name = valid_name(contact.first_name, problems, "first name", "input", "contact", "firstName")
    last_name = valid_name(contact.last_name, problems, "last name", "input", "contact", "lastName")
    email = valid_email(contact.email, problems, "input", "contact", "email")
    phone = valid_phone(contact.phone, problems, "input", "contact", "phone")
    locations = await resolve_sites(principal, sites, problems, "input", "sites")
    groups = await resolve_groups(org_id, data.permission_group_ids, problems, "input", "permissionGroupIds")
    billing = data.billing
    provincial = group_number = None
    # Whether the actor may set billing numbers at these sites: whether a taken number may be told
    # (else DUPLICATE would be an oracle on a guarded value); asked again under the lock for the FORBIDDEN.
    may_bill = can_change_user(
        principal.grants,
        Permission.BILLING_MANAGE,
        bool(sites.all_locations),
        frozenset(str(loc.id) for loc in locations),
    )
    if billing is not None:
        provincial = normalize_billing_number(billing.provincial_billing_number)
        group_number = normalize_billing_number(billing.group_billing_number)
        province = next((loc.address_province for loc in locations if loc.address_province), None)
        format_problems = billing_number_problems(
            province or DEFAULT_PROVINCE, provincial, group_number, ("input", "billing")
        )
        problems.extend(format_problems)
        # docs/architecture.md "Scoping pairs": a taken number is told only with `may_bill`.
        if (
            not format_problems
            and may_bill
            and (
                taken := await provincial_number_problem(
                    org_id, provincial, None, "input", "billing", "provincialBillingNumber"
                )
            )
        ):
            problems.extend([taken])
    invited = data.access_enabled and password_hash is None
    if invited and email is None and not problems:
        problems.add(ErrorCode.INVALID, "Enabling access needs an email address.", "input", "contact", "email")
    problems.raise_if_any()
    assert username and first_name and last_name

    all_locations = bool(sites.all_locations)
    site_ids = frozenset(str(loc.id) for loc in locations)

    async with in_transaction():
        # Serialized with every other grant change of the organization; the actor is judged, and the
        # groups are read again, after the lock: an actor demoted or a group widened meanwhile is
        # judged as it now is.
        await admins.lock_grants(principal)
        if login.is_admin and not actor_is_admin(principal):
            raise fail(
                ErrorCode.FORBIDDEN, "Only an administrator may grant administration access.", *_p("login", "isAdmin")
            )
        check_may_assign_sites(principal, Permission.USERS_MANAGE, all_locations, site_ids, "input", "sites")
        if data.access_enabled:
            check_may_assign_sites(
                principal, Permission.USERS_ACCESS_MANAGE, all_locations, site_ids, "input", "accessEnabled"
            )
        if (provincial or group_number) and not can_change_user(
            principal.grants, Permission.BILLING_MANAGE, all_locations, site_ids
        ):
            raise fail(
                ErrorCode.FORBIDDEN, "Billing numbers need BILLING_MANAGE at these locations.", "input", "billing"
            )
        groups = await resolve_groups(org_id, data.permission_group_ids, Problems(), "input", "permissionGroupIds")
        check_escalation(
            principal,
            NO_SOURCES,
            GrantSources(is_admin=login.is_admin, all_locations=all_locations, sites=site_ids, groups=groups),
            {"isAdmin": _p("login", "isAdmin"), "permissionGroupIds": _p("permissionGroupIds"), "sites": _p("sites")},
        )
        await _username_free(org_id, username, None, "input", "login", "username")
        if data.access_enabled:
            await check_seats(principal, 1, "input", "accessEnabled")
        status = (
            AccessStatus.NO_ACCESS
            if not data.access_enabled
            else (AccessStatus.INVITED if invited else AccessStatus.ENABLED)
        )
        user = await _guard_unique(
            lambda: User.create(
                organization_id=org_id,
                username=username,
                first_name=first_name,
                last_name=last_name,
                type=contact.type,
                email=email,
                phone=phone,
                is_admin=login.is_admin,
                expires_at=login.expires_at,
                password_hash=password_hash,
                pin_hash=pin_hash,
                password_reset_required=bool(login.require_password_reset) and password_hash is not None,
                access_status=status,
                all_locations=all_locations,
            ),
            "input",
            "login",
            "username",
        )
        for loc in locations:
            await UserLocation.create(organization_id=org_id, user_id=user.id, location_id=loc.id)
        for gid in groups:
            await GroupMembership.create(organization_id=org_id, group_id=gid, user_id=user.id)
        if billing is not None:
            display = f"{first_name} {last_name}"
            await unique_billing_write(
                lambda: Provider.create(
                    organization_id=org_id,
                    user_id=user.id,
                    display_name=display,
                    billing_role=billing.billing_role or BillingRole.BILLING_PROVIDER,
                    provincial_billing_number=provincial,
                    group_billing_number=group_number,
                ),
                "input",
                "billing",
                "provincialBillingNumber",
            )
        if invited and data.registration_email == EmailDelivery.SEND_NOW:
            await access.send_registration(ctx, principal.organization, user)
        changes = audit.diff({}, _snapshot(user, site_ids, groups.keys()))
        if billing is not None:
            changes["provider"] = [
                None,
                {"billing_role": billing.billing_role, "has_billing_numbers": bool(provincial or group_number)},
            ]
        await audit.record(ctx, "user.create", about=user, changes=changes)
    return user


def _p(*path: str) -> tuple[str, ...]:
    return ("input", *path)


def _extends(before: datetime | None, after: datetime | None) -> bool:
    """Whether an expiry change gives the user time it did not have: cleared, or moved later."""
    return before is not None and (after is None or after > before)


def _readdressed(user: User, values: dict[str, Any]) -> bool:
    """Whether `values` replace the user's email: a link hands the account to whoever reads the
    address it was mailed to, so the user's outstanding links die with that address (the caller voids
    them), or the holder of an address just corrected (a typo, a leaver's mailbox) could still become
    the user."""
    return "email" in values and values["email"] != user.email


async def _claimable(user: User, now: datetime) -> bool:
    """Whether whoever controls the user's email can set its password: it has none yet, or a
    registration or reset link is outstanding. Redirecting that email is taking the account over."""
    return user.password_hash is None or await outstanding_links(str(user.id), now)


# --------------------------------------------------------------------------- update


async def update_user(ctx: RequestContext, data: UpdateUserData) -> User:
    """Change the given fields; stale `expectedVersion` is CONFLICT, nothing written."""
    principal = await ctx.require_principal()
    org_id = principal.organization.id
    now = ctx.now()
    problems = Problems()
    values: dict[str, Any] = {}
    if given(data.username) and (username := valid_username(data.username, problems, "input", "username")) is not None:
        values["username"] = username
    first = (
        valid_name(data.first_name, problems, "first name", "input", "firstName") if given(data.first_name) else None
    )
    if first is not None:
        values["first_name"] = first
    last = valid_name(data.last_name, problems, "last name", "input", "lastName") if given(data.last_name) else None
    if last is not None:
        values["last_name"] = last
    if given(data.type):
        if data.type is None:
            problems.add(ErrorCode.REQUIRED, "The type is required.", "input", "type")
        else:
            values["type"] = data.type
    if given(data.email):
        values["email"] = valid_email(data.email, problems, "input", "email")
    if given(data.phone):
        values["phone"] = valid_phone(data.phone, problems, "input", "phone")
    if given(data.expires_at):
        values["expires_at"] = valid_expiry(data.expires_at, now, problems, "input", "expiresAt")
    if given(data.require_password_reset) and data.require_password_reset is not None:
        values["password_reset_required"] = bool(data.require_password_reset)
    if given(data.is_admin) and data.is_admin is not None:
        values["is_admin"] = bool(data.is_admin)
    new_sites: list[Location] | None = None
    new_all: bool | None = None
    if given(data.sites) and data.sites is not None:
        new_sites = await resolve_sites(principal, data.sites, problems, "input", "sites")
        new_all = bool(data.sites.all_locations)
    new_groups: dict[str, GroupGrant] | None = None
    if given(data.permission_group_ids) and data.permission_group_ids is not None:
        new_groups = await resolve_groups(org_id, data.permission_group_ids, problems, "input", "permissionGroupIds")
    problems.raise_if_any()

    async with in_transaction():
        await admins.lock_grants(principal)  # first: grant changes of the organization queue here
        # Sites and groups read again under the lock: one changed or deleted meanwhile is judged as it is.
        again = Problems()
        if new_sites is not None and data.sites:
            new_sites = await resolve_sites(principal, data.sites, again, "input", "sites")
        if new_groups is not None and data.permission_group_ids is not None:
            new_groups = await resolve_groups(org_id, data.permission_group_ids, again, "input", "permissionGroupIds")
        again.raise_if_any()
        target = await load_target(principal, data.id, "input", "id", lock=True)
        user = target.user
        expected = data.expected_version if given(data.expected_version) else None
        if expected is not None and expected != user.version:
            raise fail(
                ErrorCode.CONFLICT, "Someone else saved this user first: reload and try again.", *_p("expectedVersion")
            )
        check_may_change(principal, target, Permission.USERS_MANAGE, "input", "id")
        if "is_admin" in values and values["is_admin"] != user.is_admin and not actor_is_admin(principal):
            raise fail(ErrorCode.FORBIDDEN, "Only an administrator may change administration access.", *_p("isAdmin"))
        site_ids = frozenset(str(loc.id) for loc in new_sites) if new_sites is not None else target.site_ids
        all_locations = new_all if new_all is not None else user.all_locations
        if new_sites is not None:
            check_may_assign_sites(principal, Permission.USERS_MANAGE, all_locations, site_ids, "input", "sites")
        configured = target.access.configured
        old_groups = dict(configured.groups)
        after = GrantSources(
            is_admin=values.get("is_admin", user.is_admin),
            all_locations=all_locations,
            sites=frozenset(site_ids),
            groups=new_groups if new_groups is not None else old_groups,
        )
        check_escalation(
            principal,
            configured,
            after,
            {"isAdmin": _p("isAdmin"), "permissionGroupIds": _p("permissionGroupIds"), "sites": _p("sites")},
        )
        if "expires_at" in values and _extends(user.expires_at, values["expires_at"]):
            check_restore(principal, user.id, after, *_p("expiresAt"))
        # One's own new address needs one's password (updateMyProfile), a change of case aside. Another
        # user's is a takeover while a link could be mailed to it, case included: links are re-mailed
        # to the address as typed, and a mail server may tell its local parts apart by case.
        mine = str(user.id) == principal.actor_id
        if _readdressed(user, values) and (
            not _same_address(user.email, values["email"]) if mine else await _claimable(user, now)
        ):
            check_takeover(principal, user.id, after, *_p("email"))
        if "username" in values:
            await _username_free(org_id, values["username"], user.id, "input", "username")
        before_snapshot = _snapshot(user, target.site_ids, old_groups.keys())
        if new_all is not None:
            values["all_locations"] = new_all
        was_admin = user.is_admin
        count = await _guard_unique(
            lambda: User.filter(id=user.id, version=user.version).update(
                **values, **User.keys_for(values), version=F("version") + 1, updated_at=now
            ),
            "input",
            "username",
        )
        if count != 1:
            raise fail(
                ErrorCode.CONFLICT, "Someone else saved this user first: reload and try again.", *_p("expectedVersion")
            )
        if new_sites is not None and site_ids != target.site_ids:
            await UserLocation.filter(user_id=user.id).exclude(location_id__in=sorted(site_ids)).delete()
            for lid in sorted(site_ids - target.site_ids):
                await UserLocation.create(organization_id=org_id, user_id=user.id, location_id=lid)
        if new_groups is not None and set(new_groups) != set(old_groups):
            await GroupMembership.filter(user_id=user.id).exclude(group_id__in=sorted(new_groups)).delete()
            for gid in sorted(set(new_groups) - set(old_groups)):
                await GroupMembership.create(organization_id=org_id, group_id=gid, user_id=user.id)
        if was_admin:
            await admins.ensure_admin_remains(org_id, *_p("isAdmin" if "is_admin" in values else "expiresAt"))
        if "expires_at" in values and user.expires_at is not None and user.expires_at <= now:
            # An expired user's sessions and links died with its expiry: a new date does not revive them.
            await end_credentials(str(user.id), "EXPIRED", now)
        readdressed = _readdressed(user, values)
        old_key = user.username_key
        user = await User.get(id=user.id)
        if user.username_key != old_key:
            await login_throttle.rename(ctx, org_id, old_key, user.username_key)
        after_snapshot = _snapshot(user, site_ids, (new_groups if new_groups is not None else old_groups).keys())
        changes = audit.diff(before_snapshot, after_snapshot)
        if readdressed:
            renewed = await access.readdress_links(ctx, principal.organization, user)
            if renewed:
                changes["linksMailedAnew"] = [purpose.value for purpose in renewed]
        await audit.record(ctx, "user.update", about=user, changes=changes)
    return user


async def _locked_target(principal: Principal, user_id: Any, permission: Permission) -> Target:
    """The user a mutation changes: the organization's grant lock first, then the user locked and
    `permission` checked at every one of its sites (errors at input.id)."""
    await admins.lock_grants(principal)
    target = await load_target(principal, user_id, "input", "id", lock=True)
    check_may_change(principal, target, permission, "input", "id")
    return target


async def set_user_active(ctx: RequestContext, user_id: Any, active: bool) -> User:
    """Deactivate (sessions end; the user holds nothing from the next request) or reactivate."""
    principal = await ctx.require_principal()
    now = ctx.now()
    async with in_transaction():
        target = await _locked_target(principal, user_id, Permission.USERS_MANAGE)
        user = target.user
        before = _snapshot(user)
        if user.is_active != active:
            if active:
                check_restore(principal, user.id, target.access.configured, "input", "active")
                # Seats are billed per user who can log in: a user with access takes one back.
                await check_seats(principal, int(user.access_status is not AccessStatus.NO_ACCESS), "input", "active")
                await void_links(str(user.id), now)  # none sent while inactive comes back to life
            await User.filter(id=user.id).update(is_active=active, version=F("version") + 1, updated_at=now)
            if not active:
                await end_credentials(str(user.id), "DEACTIVATED", now)
                if user.is_admin:
                    await admins.ensure_admin_remains(user.organization_id, "input", "active")
            user = await User.get(id=user.id)
        await audit.record(
            ctx,
            "user.activate" if active else "user.deactivate",
            about=user,
            changes=audit.diff(before, _snapshot(user)),
        )
    return user


@dataclass
class ResetCredentialsData:
    """The `ResetCredentialsInput` as the resolver reads it."""

    id: str
    new_password: str | None = None
    new_pin: str | None = None
    require_password_reset: bool = True


async def reset_credentials(ctx: RequestContext, data: ResetCredentialsData) -> User:
    """Set a new password and/or PIN, or (neither given) email a reset link. Sessions end."""
    user_id, new_password, new_pin = data.id, data.new_password, data.new_pin
    require_password_reset = data.require_password_reset
    principal = await ctx.require_principal()
    now = ctx.now()
    async with in_transaction():
        target = await _locked_target(principal, user_id, Permission.USERS_CREDENTIALS_RESET)
        check_takeover(principal, target.user.id, target.access.configured, "input", "id")
        user = target.user
        problems = Problems()
        values: dict[str, Any] = {}
        if new_password is not None:
            if problem := password_problem(new_password, user.username):
                problems.add(ErrorCode.PASSWORD_TOO_WEAK, problem, "input", "newPassword")
            else:
                values["password_hash"] = hash_secret(new_password)
                values["password_reset_required"] = bool(require_password_reset)
        if (pin_hash := hashed_pin(new_pin, problems, "input", "newPin")) is not None:
            values["pin_hash"] = pin_hash
        # A reset link only when neither secret is given: a new PIN alone changes the PIN, nothing else.
        send_link = new_password is None and new_pin is None
        if send_link and not user.email:
            problems.add(ErrorCode.INVALID, "This user has no email address for a reset link.", "input", "id")
        problems.raise_if_any()
        before = _snapshot(user)
        await User.filter(id=user.id).update(**values, version=F("version") + 1, updated_at=now)
        user = await User.get(id=user.id)
        if "password_hash" in values:
            await void_links(str(user.id), now)
        if send_link:
            await access.send_password_reset(ctx, principal.organization, user)
        ended = await end_sessions(str(user.id), "CREDENTIALS_RESET", now)
        changes: dict[str, Any] = audit.diff(before, _snapshot(user))
        changes.update(
            {
                "passwordChanged": new_password is not None,
                "pinChanged": new_pin is not None,
                "resetLinkSent": send_link,
                "sessionsEnded": ended,
            }
        )
        await audit.record(ctx, "user.credentials_reset", about=user, changes=changes)
    if "password_hash" in values:  # once the new password is committed: never lift a lock for nothing
        await login_throttle.forget(ctx, user.organization_id, user.username_key)
    return user


def _takes_over(me: User, values: dict[str, Any]) -> bool:
    """Whether a profile change would let whoever holds the session keep the account: a new PIN unlocks
    a locked session, and a new email receives the reset links an admin sends. Either needs the
    current password, as changePassword does."""
    if "pin_hash" in values:
        return True
    if "email" not in values:
        return False
    return not _same_address(me.email, values["email"])


def _same_address(old: str | None, new: str | None) -> bool:
    """Whether an email change only changes case. For one's own address that is no takeover: a second
    mailbox differing by case alone would sit on one's own mail server. Another user's re-mailed
    links still count it as new (`update_user`)."""
    return old is not None and new is not None and search_key(new) == search_key(old)


async def update_my_profile(ctx: RequestContext, data: ProfileData) -> User:
    """One's own contact details and PIN: no permission needed (a user with no group may do this)."""
    principal = await ctx.require_principal()
    me = principal.user
    if me is None:
        raise forbidden("Only a staff user has a profile.")
    now = ctx.now()
    problems = Problems()
    values: dict[str, Any] = {}
    if (
        given(data.first_name)
        and (v := valid_name(data.first_name, problems, "first name", "input", "firstName")) is not None
    ):
        values["first_name"] = v
    if (
        given(data.last_name)
        and (v := valid_name(data.last_name, problems, "last name", "input", "lastName")) is not None
    ):
        values["last_name"] = v
    if given(data.email):
        values["email"] = valid_email(data.email, problems, "input", "email")
    if given(data.phone):
        values["phone"] = valid_phone(data.phone, problems, "input", "phone")
    if given(data.pin) and data.pin is not None and (h := hashed_pin(data.pin, problems, "input", "pin")) is not None:
        values["pin_hash"] = h
    problems.raise_if_any()
    if _takes_over(me, values):
        if not given(data.current_password) or not data.current_password:
            raise fail(
                ErrorCode.REQUIRED,
                "Confirm a new email or PIN with your current password.",
                *_p("currentPassword"),
            )
        await confirm_password(ctx, principal, data.current_password, "user.profile_update")
    async with in_transaction():
        user = await User.filter(id=me.id).select_for_update().first()
        assert user is not None
        expected = data.expected_version
        version = expected if given(expected) and expected is not None else user.version
        before = _snapshot(user)
        count = await User.filter(id=user.id, version=version).update(
            **values, **User.keys_for(values), version=F("version") + 1, updated_at=now
        )
        if count != 1:
            raise fail(
                ErrorCode.CONFLICT, "Your profile changed elsewhere: reload and try again.", *_p("expectedVersion")
            )
        if _readdressed(user, values):
            await void_links(str(user.id), now)
        user = await User.get(id=user.id)
        changes: dict[str, Any] = audit.diff(before, _snapshot(user))
        if "pin_hash" in values:
            changes["pinChanged"] = True
        await audit.record(ctx, "user.profile_update", about=user, changes=changes)
    return user
