"""Creating an organization with its first administrator (the `create-organization` command)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.enums import AccessStatus, UserType
from models.organization import Organization
from models.users import User
from resolvers.credentials import hash_secret, password_problem
from resolvers.errors import ErrorCode, Problems, fail
from resolvers.validation import normalize_email

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
USERNAME = re.compile(r"^[A-Za-z0-9._@+-]{3,150}$")


ORGANIZATION_NAME_MAX = 200  # organizations.name
PERSON_NAME_MAX = 100  # users.first_name, users.last_name


def _person_name(value: str, which: str, field: str, problems: Problems) -> str:
    """The admin's first or last name, trimmed: required and at most 100 characters, as for any
    user (a longer one would fail its INSERT as a traceback rather than a line saying so)."""
    text = value.strip()
    if not text:
        problems.add(ErrorCode.REQUIRED, f"The administrator's {which} name is required.", field)
    elif len(text) > PERSON_NAME_MAX:
        problems.add(
            ErrorCode.INVALID, f"The administrator's {which} name is at most {PERSON_NAME_MAX} characters.", field
        )
    return text


@dataclass
class CreatedOrganization:
    organization: Organization
    admin: User


def username_problem(username: str) -> str | None:
    if not USERNAME.match(username):
        return "A username is 3 to 150 letters, digits or . _ @ + - (no spaces)."
    return None


async def create_organization(
    *,
    name: str,
    slug: str,
    admin_username: str,
    admin_password: str,
    admin_email: str | None = None,
    admin_first_name: str = "Admin",
    admin_last_name: str = "User",
    seat_limit: int | None = None,
) -> CreatedOrganization:
    """An organization and its admin: ENABLED, holding everything, no forced password reset."""
    problems = Problems()
    if not name.strip():
        problems.add(ErrorCode.REQUIRED, "The organization needs a name.", "name")
    elif len(name.strip()) > ORGANIZATION_NAME_MAX:
        problems.add(ErrorCode.INVALID, f"The organization name is at most {ORGANIZATION_NAME_MAX} characters.", "name")
    admin_first_name = _person_name(admin_first_name, "first", "adminFirstName", problems)
    admin_last_name = _person_name(admin_last_name, "last", "adminLastName", problems)
    if not SLUG.match(slug):
        problems.add(ErrorCode.INVALID, "A slug is 1-63 lower-case letters, digits and hyphens.", "slug")
    if problem := username_problem(admin_username):
        problems.add(ErrorCode.INVALID, problem, "adminUsername")
    if problem := password_problem(admin_password, admin_username):
        problems.add(ErrorCode.PASSWORD_TOO_WEAK, problem, "adminPassword")
    if seat_limit is not None and seat_limit < 1:
        problems.add(ErrorCode.INVALID, "The seat limit must be at least 1.", "seatLimit")
    if admin_email is not None:
        try:
            admin_email = normalize_email(admin_email)
        except ValueError as error:
            problems.add(ErrorCode.INVALID, str(error), "adminEmail")
    problems.raise_if_any()
    try:
        async with in_transaction():
            organization = await Organization.create(name=name.strip(), slug=slug, seat_limit=seat_limit)
            admin = await User.create(
                organization=organization,
                username=admin_username,
                first_name=admin_first_name,
                last_name=admin_last_name,
                type=UserType.MANAGER,
                email=admin_email,
                is_admin=True,
                password_hash=hash_secret(admin_password),
                password_reset_required=False,
                access_status=AccessStatus.ENABLED,
                all_locations=True,
            )
    except IntegrityError:
        raise fail(ErrorCode.DUPLICATE, f"The slug {slug!r} is already taken.", "slug") from None
    return CreatedOrganization(organization, admin)
