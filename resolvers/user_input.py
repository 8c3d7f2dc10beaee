"""The input of the staff-user mutations (article 000), and the checks that normalize each part.

`createUser` arrives in Avaros' four parts (login, contact, sites, billing); `updateUser` and
`updateMyProfile` carry only the fields the caller gave, so a left-out field (`UNSET`) is told apart
from one set to null (the schema fills these with `from_input`, resolvers/inputs.py). Each check
here normalizes one field and records any problem at its path in `Problems` instead of raising, so
a caller gets every mistake in the input at once. The id lists (locations, permission groups) are
resolved to this organization's rows the same way: an unknown or malformed id is NOT_FOUND at its
index (a location the actor may not see too: docs/architecture.md "Scoping pairs").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.enums import BillingRole, EmailDelivery, UserType
from models.groups import PermissionGroup
from models.organization import Location
from permissions.grants import GroupGrant
from permissions.principal import Principal
from resolvers.credentials import hash_secret, pin_problem
from resolvers.errors import ErrorCode, Problems
from resolvers.inputs import UNSET, parse_uuid
from resolvers.location_ids import visible_locations
from resolvers.user_grants import group_grants
from resolvers.validation import normalize_email, normalize_phone

# --------------------------------------------------------------------------- input shapes


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
    expected_version: int | None = UNSET
    username: str | None = UNSET
    first_name: str | None = UNSET
    last_name: str | None = UNSET
    type: UserType | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    is_admin: bool | None = UNSET
    expires_at: datetime | None = UNSET
    require_password_reset: bool | None = UNSET
    sites: SitesData | None = UNSET
    permission_group_ids: list[str] | None = UNSET


@dataclass
class ProfileData:
    """`updateMyProfile`: every field may be UNSET (left out); a null PIN or version changes nothing.
    A new email or PIN needs `current_password` (resolvers/users.py `update_my_profile`)."""

    expected_version: int | None = UNSET
    first_name: str | None = UNSET
    last_name: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    pin: str | None = UNSET
    current_password: str | None = UNSET


# --------------------------------------------------------------------------- field checks
# The rules for any staff user, an organization's first admin included (resolvers/organizations.py).

PERSON_NAME_MAX = 100  # users.first_name, users.last_name
USERNAME = re.compile(r"^[A-Za-z0-9._@+-]{3,150}$")


def username_problem(username: str) -> str | None:
    if not USERNAME.match(username):
        return "A username is 3 to 150 letters, digits or . _ @ + - (no spaces)."
    return None


def valid_name(value: Any, problems: Problems, label: str, *path: str) -> str | None:
    """A first or last name, trimmed: required, at most 100 characters."""
    if value is None or not str(value).strip():
        problems.add(ErrorCode.REQUIRED, f"The {label} is required.", *path)
        return None
    text = str(value).strip()
    if len(text) > PERSON_NAME_MAX:
        problems.add(ErrorCode.INVALID, f"The {label} is at most {PERSON_NAME_MAX} characters.", *path)
        return None
    return text


def _normalized(normalize: Callable[[str], str], value: str | None, problems: Problems, *path: str) -> str | None:
    """An optional value in `normalize`'s form (blank means none); one it refuses is INVALID at `path`."""
    if value is None or not value.strip():
        return None
    try:
        return normalize(value)
    except ValueError as error:
        problems.add(ErrorCode.INVALID, str(error), *path)
        return None


def valid_email(value: str | None, problems: Problems, *path: str) -> str | None:
    """An optional email address in its normalized form (blank means none)."""
    return _normalized(normalize_email, value, problems, *path)


def valid_phone(value: str | None, problems: Problems, *path: str) -> str | None:
    """An optional phone number in E.164, read as Canadian when it has no country code (blank means none)."""
    return _normalized(normalize_phone, value, problems, *path)


def valid_username(value: Any, problems: Problems, *path: str) -> str | None:
    """A username, trimmed, by `username_problem` (the rule an organization's first admin's is held to too)."""
    text = (value or "").strip()
    if problem := username_problem(text):
        problems.add(ErrorCode.INVALID, problem, *path)
        return None
    return text


def valid_expiry(value: datetime | None, now: datetime, problems: Problems, *path: str) -> datetime | None:
    """An account expiry: none, or in the future (a past one would lock the account at once)."""
    if value is not None and value <= now:
        problems.add(ErrorCode.INVALID, "The expiry must be in the future.", *path)
    return value


def hashed_pin(value: str | None, problems: Problems, *path: str) -> str | None:
    """The hash of a new PIN that passes the PIN rules (docs/architecture.md "Authentication"); None when none was
    given."""
    if value is None:
        return None
    if problem := pin_problem(value):
        problems.add(ErrorCode.INVALID, problem, *path)
        return None
    return hash_secret(value)


# --------------------------------------------------------------------------- id lists


async def resolve_sites(principal: Principal, sites: SitesData, problems: Problems, *path: str) -> list[Location]:
    """The selected locations, each one the actor may see (`location_q`) and active. An unknown id and
    one the actor may not see are both NOT_FOUND, before anything else is said about it: "deactivated"
    (or FORBIDDEN) about a location out of reach would tell that it exists."""
    parsed, found = await visible_locations(principal, sites.location_ids or [])
    result: dict[str, Location] = {}
    for index, lid in enumerate(parsed):
        loc = found.get(str(lid)) if lid is not None else None
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
