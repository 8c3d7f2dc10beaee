"""Creating an organization with its first administrator (the `create-organization` command)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.enums import AccessStatus, UserType
from models.organization import Organization
from models.users import User
from resolvers import audit, login_throttle
from resolvers.auth import login_key
from resolvers.context import RequestContext
from resolvers.credentials import hash_secret, password_problem
from resolvers.errors import ErrorCode, Problems, fail
from resolvers.sessions import end_sessions, void_links
from resolvers.user_input import username_problem, valid_name
from resolvers.validation import normalize_email

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
ORGANIZATION_NAME_MAX = 200  # organizations.name


@dataclass
class CreatedOrganization:
    organization: Organization
    admin: User


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
    # The admin's names by the rule for any user's (a longer one would fail its INSERT as a traceback
    # rather than a line saying so).
    first_name = valid_name(admin_first_name, problems, "administrator's first name", "adminFirstName")
    last_name = valid_name(admin_last_name, problems, "administrator's last name", "adminLastName")
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
                first_name=first_name,
                last_name=last_name,
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


async def reset_password_by_operator(ctx: RequestContext, *, slug: str, username: str, password: str) -> User:
    """The way back for an organization whose only admin forgot the password: whoever runs the
    server sets a user's password from the command line (`tessera reset-password`). The API cannot
    do this for oneself (resetCredentials refuses oneself: a session is not the password), and an
    operator already holds the database. The password must be changed at the next login (the
    operator knows it); every session and outstanding link of the user ends. Audited as SYSTEM."""
    if problem := password_problem(password, username.strip()):
        raise fail(ErrorCode.PASSWORD_TOO_WEAK, problem, "password")
    slug = slug.strip().lower()
    # A slug or username no organization or user can have (too long for its column, say) finds none.
    organization = await Organization.filter(slug=slug).first() if SLUG.match(slug) else None
    user = (
        await User.filter(organization_id=organization.id, username_key=login_key(username)).first()
        if organization is not None
        else None
    )
    if organization is None or user is None:
        raise fail(ErrorCode.NOT_FOUND, f"No user {username!r} in organization {slug!r}.", "username")
    password_hash = hash_secret(password)
    now = ctx.now()
    async with in_transaction():
        await User.filter(id=user.id).update(
            password_hash=password_hash, password_reset_required=True, version=F("version") + 1, updated_at=now
        )
        ended = await end_sessions(str(user.id), "PASSWORD_CHANGED", now)
        await void_links(str(user.id), now)
        changes = {"passwordSet": True, "passwordResetRequired": True, "sessionsEnded": ended}
        await audit.record_system(ctx, "user.credentials_reset", about=user, by="cli:reset-password", changes=changes)
    await login_throttle.forget(ctx, user.organization_id, user.username_key)
    return await User.get(id=user.id)
