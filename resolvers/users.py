"""Staff users (article 000): create in four parts, search, update, deactivate, reset credentials.

The rules of DESIGN §3 in one place for users:
- a target out of the viewer's scope (or another organization's, or a malformed id) is NOT_FOUND;
- changing a user needs the permission at EVERY one of the target's sites (`can_change_user`), and
  only an admin changes an admin or grants `isAdmin`;
- any change adding to the target's grants (groups, sites, allLocations, isAdmin) must be covered by
  the actor's own grants: the target's grants are computed before and after and compared
  (`permissions.escalation.excess_grants`); the whole input is refused with FORBIDDEN at the field;
- no change leaves the organization without an acting admin (resolvers/admins.py);
- everything happens in one transaction with its audit event; updates are optimistic
  (`WHERE version = expected`), so two admins saving at once never lose an update.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.enums import AccessStatus, AccountStatus, BillingRole, EmailDelivery, UserType
from models.groups import GroupLocation, GroupMembership, PermissionGroup
from models.organization import Location, Organization
from models.providers import Provider
from models.sessions import LoginAttempt
from models.users import User, UserLocation
from permissions.catalog import Permission, parse_codes
from permissions.errors import forbidden
from permissions.escalation import escalation_message, excess_grants
from permissions.grants import ALL, Grants, GroupGrant, compute_grants
from permissions.principal import Principal
from permissions.scoping import can_change_user, can_see_user
from resolvers import admins, audit
from resolvers.billing import billing_number_problems, normalize_billing_number
from resolvers.context import RequestContext
from resolvers.credentials import hash_secret, password_problem, pin_problem
from resolvers.errors import ErrorCode, InputError, Problems, fail
from resolvers.locations import parse_uuid
from resolvers.organizations import username_problem
from resolvers.sessions import end_sessions
from resolvers.validation import normalize_email, normalize_phone


class _Unset:
    """A field the caller left out (as opposed to one set to null)."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

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
DEFAULT_PROVINCE = "ON"


# --------------------------------------------------------------------------- inputs


@dataclass
class LoginData:
    username: str
    password: str | None = None
    pin: str | None = None
    expires_at: datetime | None = None
    require_password_reset: bool = True
    is_admin: bool = False


@dataclass
class ContactData:
    first_name: str
    last_name: str
    type: UserType
    email: str | None = None
    phone: str | None = None


@dataclass
class SitesData:
    all_locations: bool = False
    location_ids: list[str] = field(default_factory=list)


@dataclass
class BillingData:
    provincial_billing_number: str | None = None
    group_billing_number: str | None = None
    billing_role: BillingRole = BillingRole.BILLING_PROVIDER


@dataclass
class CreateUserData:
    login: LoginData
    contact: ContactData
    sites: SitesData
    billing: BillingData | None = None
    permission_group_ids: list[str] = field(default_factory=list)
    access_enabled: bool = True
    registration_email: EmailDelivery = EmailDelivery.SEND_NOW


@dataclass
class UpdateUserData:
    """Every field but `id` may be UNSET (left out); `expires_at` None clears the expiry."""

    id: str
    expected_version: Any = UNSET
    username: Any = UNSET
    first_name: Any = UNSET
    last_name: Any = UNSET
    type: Any = UNSET
    email: Any = UNSET
    phone: Any = UNSET
    is_admin: Any = UNSET
    expires_at: Any = UNSET
    require_password_reset: Any = UNSET
    sites: Any = UNSET
    permission_group_ids: Any = UNSET


@dataclass
class UserFilterData:
    search: str | None = None
    last_name: str | None = None
    username: str | None = None
    provider_number: str | None = None
    is_active: bool | None = None
    status: AccountStatus | None = None
    type: UserType | None = None
    location_id: str | None = None
    permission_group_id: str | None = None


def given(value: Any) -> bool:
    return value is not UNSET


# --------------------------------------------------------------------------- targets and checks


@dataclass
class Target:
    """A user the viewer may see, with every site it is linked to (active or not)."""

    user: User
    site_ids: frozenset[str]


async def site_ids_of(user_id: Any) -> frozenset[str]:
    return frozenset(str(x) for x in await UserLocation.filter(user_id=user_id).values_list("location_id", flat=True))


async def load_target(principal: Principal, user_id: Any, *path: str, lock: bool = False) -> Target:
    """The user behind `user_id` if the viewer may see it; else NOT_FOUND exactly like a random id."""
    uid = parse_uuid(user_id)
    user = None
    if uid is not None:
        query = User.filter(id=uid, organization_id=principal.organization.id)
        user = await (query.select_for_update() if lock else query).first()
    if user is not None:
        sites = await site_ids_of(user.id)
        if can_see_user(principal, str(user.id), user.all_locations, sites):
            return Target(user, sites)
    raise fail(ErrorCode.NOT_FOUND, "No such user.", *path)


def check_may_change(principal: Principal, target: Target, permission: Permission, *path: str) -> None:
    """DESIGN §3: the permission at every one of the target's sites; an admin only by an admin."""
    if target.user.is_admin and not (principal.user is not None and principal.user.is_admin):
        raise fail(ErrorCode.FORBIDDEN, "Only an administrator may change an administrator.", *path)
    if not can_change_user(principal.grants, permission, target.user.all_locations, target.site_ids):
        raise fail(
            ErrorCode.FORBIDDEN,
            f"This needs {permission.value} at every location where this user works.",
            *path,
        )


def check_may_assign_sites(
    principal: Principal, permission: Permission, all_locations: bool, site_ids: frozenset[str], *path: str
) -> None:
    """Putting a user at sites needs the permission at each of them (at ALL for allLocations)."""
    if not can_change_user(principal.grants, permission, all_locations, site_ids):
        raise fail(ErrorCode.FORBIDDEN, f"This needs {permission.value} at every location you select.", *path)


async def resolve_sites(org_id: Any, sites: SitesData, problems: Problems, *path: str) -> list[Location]:
    """The selected locations, each of this organization and active (unknown ids are NOT_FOUND)."""
    wanted = []
    for index, raw in enumerate(sites.location_ids or []):
        lid = parse_uuid(raw)
        if lid is None:
            problems.add(ErrorCode.NOT_FOUND, "No such location.", *path, "locationIds", str(index))
        else:
            wanted.append((index, lid))
    found = (
        {str(loc.id): loc for loc in await Location.filter(organization_id=org_id, id__in=[lid for _, lid in wanted])}
        if wanted
        else {}
    )
    result: dict[str, Location] = {}
    for index, lid in wanted:
        loc = found.get(str(lid))
        if loc is None:
            problems.add(ErrorCode.NOT_FOUND, "No such location.", *path, "locationIds", str(index))
        elif not loc.is_active:
            problems.add(ErrorCode.INVALID, "This location is deactivated.", *path, "locationIds", str(index))
        else:
            result[str(loc.id)] = loc
    return list(result.values())


async def resolve_groups(org_id: Any, ids: list[str], problems: Problems, *path: str) -> dict[str, GroupGrant]:
    """The groups by id as the grants computation needs them (unknown ids are NOT_FOUND)."""
    wanted = []
    for index, raw in enumerate(ids or []):
        gid = parse_uuid(raw)
        if gid is None:
            problems.add(ErrorCode.NOT_FOUND, "No such permission group.", *path, str(index))
        else:
            wanted.append((index, gid))
    if not wanted:
        return {}
    groups = {str(g.id): g for g in await PermissionGroup.filter(organization_id=org_id, id__in=[g for _, g in wanted])}
    for index, gid in wanted:
        if str(gid) not in groups:
            problems.add(ErrorCode.NOT_FOUND, "No such permission group.", *path, str(index))
    return await group_grants(list(groups.values()))


async def group_grants(groups: list[PermissionGroup]) -> dict[str, GroupGrant]:
    if not groups:
        return {}
    links = await GroupLocation.filter(group_id__in=[g.id for g in groups], location__is_active=True).values_list(
        "group_id", "location_id"
    )
    locations: dict[str, set[str]] = {}
    for gid, lid in links:
        locations.setdefault(str(gid), set()).add(str(lid))
    return {
        str(g.id): GroupGrant(
            permissions=frozenset(parse_codes(g.permission_codes)),
            all_locations=g.all_locations,
            location_ids=frozenset(locations.get(str(g.id), ())),
        )
        for g in groups
    }


async def active_site_ids(site_ids: frozenset[str]) -> frozenset[str]:
    if not site_ids:
        return frozenset()
    ids = await Location.filter(id__in=sorted(site_ids), is_active=True).values_list("id", flat=True)
    return frozenset(str(i) for i in ids)


async def current_groups(user_id: Any) -> dict[str, GroupGrant]:
    groups = await PermissionGroup.filter(memberships__user_id=user_id)
    return await group_grants(list(groups))


def grants_of(*, is_admin: bool, all_locations: bool, sites: frozenset[str], groups: dict[str, GroupGrant]) -> Grants:
    return compute_grants(is_admin=is_admin, all_locations=all_locations, site_ids=sites, groups=groups.values())


@dataclass(frozen=True)
class GrantState:
    """What a user's grants are computed from (DESIGN §3), before or after a change."""

    is_admin: bool
    all_locations: bool
    sites: frozenset[str]
    groups: dict[str, GroupGrant]

    def grants(self) -> Grants:
        return grants_of(is_admin=self.is_admin, all_locations=self.all_locations, sites=self.sites, groups=self.groups)


def check_escalation(principal: Principal, old: GrantState, new: GrantState, paths: dict[str, tuple[str, ...]]) -> None:
    """No one gives what they do not have: refuse the whole input when `new` adds grants over `old`
    that the actor lacks, with FORBIDDEN at the field responsible (isAdmin, permissionGroupIds or sites:
    the one whose change, undone, leaves nothing in excess)."""
    before = old.grants()
    excess = excess_grants(principal.grants, before, new.grants())
    if not excess:
        return
    if new.is_admin and not old.is_admin:
        blame = paths["isAdmin"]
    elif not excess_grants(principal.grants, before, replace(new, groups=old.groups).grants()):
        blame = paths["permissionGroupIds"]
    elif not excess_grants(
        principal.grants, before, replace(new, sites=old.sites, all_locations=old.all_locations).grants()
    ):
        blame = paths["sites"]
    else:
        blame = paths["permissionGroupIds"] if set(new.groups) != set(old.groups) else paths["sites"]
    raise fail(ErrorCode.FORBIDDEN, escalation_message(excess), *blame)


def _is_admin(principal: Principal) -> bool:
    return principal.user is not None and principal.user.is_admin


# --------------------------------------------------------------------------- field validation


def _name(value: Any, problems: Problems, label: str, *path: str) -> str | None:
    if value is None or not str(value).strip():
        problems.add(ErrorCode.REQUIRED, f"The {label} is required.", *path)
        return None
    text = str(value).strip()
    if len(text) > 100:
        problems.add(ErrorCode.INVALID, f"The {label} is at most 100 characters.", *path)
        return None
    return text


def _email(value: str | None, problems: Problems, *path: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return normalize_email(value)
    except ValueError as error:
        problems.add(ErrorCode.INVALID, str(error), *path)
        return None


def _phone(value: str | None, problems: Problems, *path: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return normalize_phone(value)
    except ValueError as error:
        problems.add(ErrorCode.INVALID, str(error), *path)
        return None


def _username(value: Any, problems: Problems, *path: str) -> str | None:
    text = (value or "").strip()
    if problem := username_problem(text):
        problems.add(ErrorCode.INVALID, problem, *path)
        return None
    return text


def _expiry(value: datetime | None, now: datetime, problems: Problems, *path: str) -> datetime | None:
    if value is not None and value <= now:
        problems.add(ErrorCode.INVALID, "The expiry must be in the future.", *path)
    return value


def _pin(value: str | None, problems: Problems, *path: str) -> str | None:
    if value is None:
        return None
    if problem := pin_problem(value):
        problems.add(ErrorCode.INVALID, problem, *path)
        return None
    return hash_secret(value)


async def _username_free(org_id: Any, username: str, except_id: Any = None, *path: str) -> None:
    query = User.filter(organization_id=org_id, username_key=username.lower())
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


async def seats_used(organization_id: Any) -> int:
    return await User.filter(
        organization_id=organization_id, access_status__in=[AccessStatus.INVITED, AccessStatus.ENABLED]
    ).count()


async def check_seats(principal: Principal, adding: int, *path: str) -> None:
    """A batch that would pass the seat limit fails whole. Locks the organization row first, so two
    batches at once count one after the other (PostgreSQL)."""
    if adding <= 0:
        return
    org = await Organization.filter(id=principal.organization.id).select_for_update().first()
    limit = org.seat_limit if org else None
    if limit is not None and await seats_used(principal.organization.id) + adding > limit:
        raise fail(
            ErrorCode.SEAT_LIMIT_REACHED,
            f"This would use more than the organization's {limit} seats.",
            *path,
        )


def _snapshot(user: User, sites: Any = None, groups: Any = None) -> dict[str, Any]:
    values = audit.snapshot(user, AUDITED)
    if sites is not None:
        values["location_ids"] = sorted(str(s) for s in sites)
    if groups is not None:
        values["permission_group_ids"] = sorted(str(g) for g in groups)
    return values


# --------------------------------------------------------------------------- create


async def create_user(ctx: RequestContext, data: CreateUserData) -> User:
    """Avaros "Add User" in its four parts; access enabled by default (registration email now or later)."""
    from resolvers import access

    principal = await ctx.require_principal()
    org_id = principal.organization.id
    now = ctx.now()
    problems = Problems()
    login, contact, sites = data.login, data.contact, data.sites
    username = _username(login.username, problems, "input", "login", "username")
    password_hash = None
    if login.password is not None:
        if problem := password_problem(login.password, username or login.username):
            problems.add(ErrorCode.PASSWORD_TOO_WEAK, problem, "input", "login", "password")
        else:
            password_hash = hash_secret(login.password)
    pin_hash = _pin(login.pin, problems, "input", "login", "pin")
    _expiry(login.expires_at, now, problems, "input", "login", "expiresAt")
    first_name = _name(contact.first_name, problems, "first name", "input", "contact", "firstName")
    last_name = _name(contact.last_name, problems, "last name", "input", "contact", "lastName")
    email = _email(contact.email, problems, "input", "contact", "email")
    phone = _phone(contact.phone, problems, "input", "contact", "phone")
    locations = await resolve_sites(org_id, sites, problems, "input", "sites")
    groups = await resolve_groups(org_id, data.permission_group_ids, problems, "input", "permissionGroupIds")
    billing = data.billing
    provincial = group_number = None
    if billing is not None:
        provincial = normalize_billing_number(billing.provincial_billing_number)
        group_number = normalize_billing_number(billing.group_billing_number)
        province = next((loc.address_province for loc in locations if loc.address_province), None)
        problems.extend(
            billing_number_problems(province or DEFAULT_PROVINCE, provincial, group_number, ("input", "billing"))
        )
    invited = data.access_enabled and password_hash is None
    if invited and email is None and not problems:
        problems.add(ErrorCode.INVALID, "Enabling access needs an email address.", "input", "contact", "email")
    problems.raise_if_any()
    assert username and first_name and last_name

    all_locations = bool(sites.all_locations)
    site_ids = frozenset(str(loc.id) for loc in locations)
    if login.is_admin and not _is_admin(principal):
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
        raise fail(ErrorCode.FORBIDDEN, "Billing numbers need BILLING_MANAGE at these locations.", "input", "billing")
    check_escalation(
        principal,
        GrantState(is_admin=False, all_locations=False, sites=frozenset(), groups={}),
        GrantState(is_admin=login.is_admin, all_locations=all_locations, sites=site_ids, groups=groups),
        {"isAdmin": _p("login", "isAdmin"), "permissionGroupIds": _p("permissionGroupIds"), "sites": _p("sites")},
    )

    async with in_transaction():
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
                id=uuid.uuid4(),
                organization_id=org_id,
                username=username,
                username_key=username.lower(),
                first_name=first_name,
                last_name=last_name,
                last_name_key=last_name.lower(),
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
            await UserLocation.create(id=uuid.uuid4(), organization_id=org_id, user_id=user.id, location_id=loc.id)
        for gid in groups:
            await GroupMembership.create(id=uuid.uuid4(), organization_id=org_id, group_id=gid, user_id=user.id)
        if billing is not None:
            display = f"{first_name} {last_name}"
            await Provider.create(
                id=uuid.uuid4(),
                organization_id=org_id,
                user_id=user.id,
                display_name=display,
                display_name_key=display.lower(),
                billing_role=billing.billing_role or BillingRole.BILLING_PROVIDER,
                provincial_billing_number=provincial,
                group_billing_number=group_number,
            )
        if invited and data.registration_email == EmailDelivery.SEND_NOW:
            await access.send_registration(ctx, principal.organization, user)
        changes = audit.diff({}, _snapshot(user, site_ids, groups.keys()))
        if billing is not None:
            changes["provider"] = [
                None,
                {"billing_role": billing.billing_role, "has_billing_numbers": bool(provincial or group_number)},
            ]
        await audit.record(ctx, "user.create", target_type="User", target_id=user.id, changes=changes)
    return user


def _p(*path: str) -> tuple[str, ...]:
    return ("input", *path)


# --------------------------------------------------------------------------- update


async def update_user(ctx: RequestContext, data: UpdateUserData) -> User:
    """Change the given fields; stale `expectedVersion` is CONFLICT, nothing written."""
    principal = await ctx.require_principal()
    org_id = principal.organization.id
    now = ctx.now()
    problems = Problems()
    values: dict[str, Any] = {}
    if given(data.username) and (username := _username(data.username, problems, "input", "username")) is not None:
        values["username"], values["username_key"] = username, username.lower()
    first = _name(data.first_name, problems, "first name", "input", "firstName") if given(data.first_name) else None
    if first is not None:
        values["first_name"] = first
    last = _name(data.last_name, problems, "last name", "input", "lastName") if given(data.last_name) else None
    if last is not None:
        values["last_name"], values["last_name_key"] = last, last.lower()
    if given(data.type):
        if data.type is None:
            problems.add(ErrorCode.REQUIRED, "The type is required.", "input", "type")
        else:
            values["type"] = data.type
    if given(data.email):
        values["email"] = _email(data.email, problems, "input", "email")
    if given(data.phone):
        values["phone"] = _phone(data.phone, problems, "input", "phone")
    if given(data.expires_at):
        values["expires_at"] = _expiry(data.expires_at, now, problems, "input", "expiresAt")
    if given(data.require_password_reset) and data.require_password_reset is not None:
        values["password_reset_required"] = bool(data.require_password_reset)
    if given(data.is_admin) and data.is_admin is not None:
        values["is_admin"] = bool(data.is_admin)
    new_sites: list[Location] | None = None
    new_all: bool | None = None
    if given(data.sites) and data.sites is not None:
        new_sites = await resolve_sites(org_id, data.sites, problems, "input", "sites")
        new_all = bool(data.sites.all_locations)
    new_groups: dict[str, GroupGrant] | None = None
    if given(data.permission_group_ids) and data.permission_group_ids is not None:
        new_groups = await resolve_groups(org_id, data.permission_group_ids, problems, "input", "permissionGroupIds")
    problems.raise_if_any()

    async with in_transaction():
        await admins.lock_admins(org_id)  # first, so concurrent admin changes queue instead of deadlocking
        target = await load_target(principal, data.id, "input", "id", lock=True)
        user = target.user
        expected = data.expected_version if given(data.expected_version) else None
        if expected is not None and expected != user.version:
            raise fail(
                ErrorCode.CONFLICT, "Someone else saved this user first: reload and try again.", *_p("expectedVersion")
            )
        check_may_change(principal, target, Permission.USERS_MANAGE, "input", "id")
        if "is_admin" in values and values["is_admin"] != user.is_admin and not _is_admin(principal):
            raise fail(ErrorCode.FORBIDDEN, "Only an administrator may change administration access.", *_p("isAdmin"))
        site_ids = frozenset(str(loc.id) for loc in new_sites) if new_sites is not None else target.site_ids
        all_locations = new_all if new_all is not None else user.all_locations
        if new_sites is not None:
            check_may_assign_sites(principal, Permission.USERS_MANAGE, all_locations, site_ids, "input", "sites")
        old_groups = await current_groups(user.id)
        groups = new_groups if new_groups is not None else old_groups
        before_sites = await active_site_ids(target.site_ids)
        after_sites = await active_site_ids(site_ids)
        check_escalation(
            principal,
            GrantState(is_admin=user.is_admin, all_locations=user.all_locations, sites=before_sites, groups=old_groups),
            GrantState(
                is_admin=values.get("is_admin", user.is_admin),
                all_locations=all_locations,
                sites=after_sites,
                groups=groups,
            ),
            {"isAdmin": _p("isAdmin"), "permissionGroupIds": _p("permissionGroupIds"), "sites": _p("sites")},
        )
        if "username" in values:
            await _username_free(org_id, values["username"], user.id, "input", "username")
        before_snapshot = _snapshot(user, target.site_ids, old_groups.keys())
        if new_all is not None:
            values["all_locations"] = new_all
        was_admin = user.is_admin
        count = await _guard_unique(
            lambda: User.filter(id=user.id, version=user.version).update(
                **values, version=F("version") + 1, updated_at=now
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
                await UserLocation.create(id=uuid.uuid4(), organization_id=org_id, user_id=user.id, location_id=lid)
        if new_groups is not None and set(new_groups) != set(old_groups):
            await GroupMembership.filter(user_id=user.id).exclude(group_id__in=sorted(new_groups)).delete()
            for gid in sorted(set(new_groups) - set(old_groups)):
                await GroupMembership.create(id=uuid.uuid4(), organization_id=org_id, group_id=gid, user_id=user.id)
        if was_admin:
            await admins.ensure_admin_remains(org_id, now, *_p("isAdmin" if "is_admin" in values else "expiresAt"))
        user = await User.get(id=user.id)
        after_snapshot = _snapshot(user, site_ids, (new_groups if new_groups is not None else old_groups).keys())
        await audit.record(
            ctx,
            "user.update",
            target_type="User",
            target_id=user.id,
            changes=audit.diff(before_snapshot, after_snapshot),
        )
    return user


async def set_user_active(ctx: RequestContext, user_id: Any, active: bool) -> User:
    """Deactivate (sessions end; the user holds nothing from the next request) or reactivate."""
    principal = await ctx.require_principal()
    now = ctx.now()
    async with in_transaction():
        await admins.lock_admins(principal.organization.id)
        target = await load_target(principal, user_id, "input", "id", lock=True)
        check_may_change(principal, target, Permission.USERS_MANAGE, "input", "id")
        user = target.user
        before = _snapshot(user)
        if user.is_active != active:
            await User.filter(id=user.id).update(is_active=active, version=F("version") + 1, updated_at=now)
            if not active:
                await end_sessions(str(user.id), "DEACTIVATED", now)
                if user.is_admin:
                    await admins.ensure_admin_remains(user.organization_id, now, "input", "active")
            user = await User.get(id=user.id)
        await audit.record(
            ctx,
            "user.activate" if active else "user.deactivate",
            target_type="User",
            target_id=user.id,
            changes=audit.diff(before, _snapshot(user)),
        )
    return user


async def reset_credentials(
    ctx: RequestContext,
    user_id: Any,
    *,
    new_password: str | None = None,
    new_pin: str | None = None,
    require_password_reset: bool = True,
) -> User:
    """Set a new password and/or PIN, or (no password given) email a reset link. Sessions end."""
    from resolvers import access

    principal = await ctx.require_principal()
    now = ctx.now()
    async with in_transaction():
        target = await load_target(principal, user_id, "input", "id", lock=True)
        check_may_change(principal, target, Permission.USERS_CREDENTIALS_RESET, "input", "id")
        user = target.user
        problems = Problems()
        values: dict[str, Any] = {}
        if new_password is not None:
            if problem := password_problem(new_password, user.username):
                problems.add(ErrorCode.PASSWORD_TOO_WEAK, problem, "input", "newPassword")
            else:
                values["password_hash"] = hash_secret(new_password)
                values["password_reset_required"] = bool(require_password_reset)
        if (pin_hash := _pin(new_pin, problems, "input", "newPin")) is not None:
            values["pin_hash"] = pin_hash
        send_link = new_password is None
        if send_link and not user.email:
            problems.add(ErrorCode.INVALID, "This user has no email address for a reset link.", "input", "id")
        problems.raise_if_any()
        before = _snapshot(user)
        await User.filter(id=user.id).update(**values, version=F("version") + 1, updated_at=now)
        user = await User.get(id=user.id)
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
        await audit.record(ctx, "user.credentials_reset", target_type="User", target_id=user.id, changes=changes)
    return user


async def update_my_profile(
    ctx: RequestContext,
    *,
    expected_version: Any = UNSET,
    first_name: Any = UNSET,
    last_name: Any = UNSET,
    email: Any = UNSET,
    phone: Any = UNSET,
    pin: Any = UNSET,
) -> User:
    """One's own contact details and PIN: no permission needed (a user with no group may do this)."""
    principal = await ctx.require_principal()
    me = principal.user
    if me is None:
        raise forbidden("Only a staff user has a profile.")
    now = ctx.now()
    problems = Problems()
    values: dict[str, Any] = {}
    if given(first_name) and (v := _name(first_name, problems, "first name", "input", "firstName")) is not None:
        values["first_name"] = v
    if given(last_name) and (v := _name(last_name, problems, "last name", "input", "lastName")) is not None:
        values["last_name"], values["last_name_key"] = v, v.lower()
    if given(email):
        values["email"] = _email(email, problems, "input", "email")
    if given(phone):
        values["phone"] = _phone(phone, problems, "input", "phone")
    if given(pin) and pin is not None and (h := _pin(pin, problems, "input", "pin")) is not None:
        values["pin_hash"] = h
    problems.raise_if_any()
    async with in_transaction():
        user = await User.filter(id=me.id).select_for_update().first()
        assert user is not None
        version = expected_version if given(expected_version) and expected_version is not None else user.version
        before = _snapshot(user)
        count = await User.filter(id=user.id, version=version).update(
            **values, version=F("version") + 1, updated_at=now
        )
        if count != 1:
            raise fail(
                ErrorCode.CONFLICT, "Your profile changed elsewhere: reload and try again.", *_p("expectedVersion")
            )
        user = await User.get(id=user.id)
        changes = audit.diff(before, _snapshot(user))
        if "pin_hash" in values:
            changes["pinChanged"] = True
        await audit.record(ctx, "user.profile_update", target_type="User", target_id=user.id, changes=changes)
    return user


# --------------------------------------------------------------------------- reads


def _sites_q(scope: Any) -> Q:
    """Users working where `scope` (ALL or location ids) reaches: all-locations users included."""
    if scope is ALL:
        return Q()
    if not scope:
        return Q(id__in=[])
    return Q(all_locations=True) | Q(
        id__in=Subquery(UserLocation.filter(location_id__in=sorted(scope)).values("user_id"))
    )


def visible_users_q(principal: Principal) -> Q:
    """The row filter behind `can_see_user`: oneself, and users at the viewer's USERS_READ sites."""
    q = Q(organization_id=principal.organization.id)
    scope = principal.grants.scope(Permission.USERS_READ)
    if scope is ALL:
        return q
    own = Q(id=principal.user.id) if principal.user is not None else Q(id__in=[])
    return q & (own | _sites_q(scope)) if scope else q & own


def _locked_usernames(org_id: Any, now: datetime) -> Subquery:
    now_ts = int(now.timestamp())
    return Subquery(
        LoginAttempt.filter(
            Q(organization_id=org_id),
            Q(ip_locked_until__gt=now_ts) | Q(user_locked_until__gt=now_ts),
        ).values("username_key")
    )


def _status_q(status: AccountStatus, org_id: Any, now: datetime) -> Q:
    live = Q(is_active=True) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    if status is AccountStatus.INACTIVE:
        return Q(is_active=False)
    if status is AccountStatus.EXPIRED:
        return Q(is_active=True, expires_at__lte=now)
    locked = Q(username_key__in=_locked_usernames(org_id, now))
    if status is AccountStatus.LOCKED:
        return live & locked
    return live & ~locked


def users_query(ctx: RequestContext, principal: Principal, filter: UserFilterData | None) -> QuerySet:
    """The users the viewer may see, narrowed by `filter`, in SQL (not yet ordered or paged)."""
    query = User.filter(visible_users_q(principal))
    if filter is None:
        return query
    org_id = principal.organization.id
    if filter.search:
        term = filter.search.strip().lower()
        query = query.filter(
            Q(first_name__istartswith=term)
            | Q(last_name_key__startswith=term)
            | Q(username_key__startswith=term)
            | Q(email__istartswith=term)
        )
    if filter.last_name:
        query = query.filter(last_name_key__startswith=filter.last_name.strip().lower())
    if filter.username:
        query = query.filter(username_key=filter.username.strip().lower())
    if filter.provider_number:
        # A guarded value: filtering on it needs BILLING_READ, and only where held (else an oracle).
        if not principal.grants.has_anywhere(Permission.BILLING_READ):
            raise forbidden("Filtering on a provider number needs the BILLING_READ permission.")
        number = normalize_billing_number(filter.provider_number)
        query = query.filter(
            _sites_q(principal.grants.scope(Permission.BILLING_READ)),
            id__in=Subquery(Provider.filter(provincial_billing_number=number).values("user_id")),
        )
    if filter.is_active is not None:
        query = query.filter(is_active=filter.is_active)
    if filter.status is not None:
        query = query.filter(_status_q(AccountStatus(filter.status), org_id, ctx.now()))
    if filter.type is not None:
        query = query.filter(type=filter.type)
    if filter.location_id is not None:
        lid = parse_uuid(filter.location_id)
        query = query.filter(
            Q(all_locations=True) | Q(id__in=Subquery(UserLocation.filter(location_id=lid).values("user_id")))
            if lid
            else Q(id__in=[])
        )
    if filter.permission_group_id is not None:
        gid = parse_uuid(filter.permission_group_id)
        query = query.filter(id__in=Subquery(GroupMembership.filter(group_id=gid).values("user_id")) if gid else [])
    return query


async def get_user(ctx: RequestContext, user_id: Any) -> User | None:
    """One user, or None when unknown, malformed, another organization's or out of scope."""
    principal = await ctx.require_principal()
    try:
        return (await load_target(principal, user_id)).user
    except InputError:
        return None
