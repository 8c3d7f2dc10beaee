"""Online registrations (article 001): a first-time online booker signs up, which makes a portal
account and a PENDING_REVIEW client linked to it as SELF; staff with CLIENTS_MERGE then merge it
into the existing profile (resolvers/merges.py) or approve it as a new patient.

`portalSignUp` is public, so it is throttled like a login: a sign-up refused because the email has an
account counts as a failed attempt for that email (the login's counters), every sign-up counts for
the caller's IP (five in the throttle window), and a throttled caller is told LOGIN_THROTTLED before
anything is judged. A taken email takes nothing
over: the existing account and its clients are left exactly as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import strawberry
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.clients import Client
from models.enums import ClientSource, ClientStatus, ProxyRelationship
from models.organization import Location, Organization
from models.portal import ClientPortalLink, PortalAccount
from permissions.catalog import Permission
from permissions.grants import ALL
from permissions.principal import Principal
from permissions.scoping import client_q
from resolvers import audit, login_throttle
from resolvers.auth import THROTTLED_MESSAGE, login_key
from resolvers.client_input import ClientValidator, local_today
from resolvers.client_lookup import client_to_act_on
from resolvers.context import RequestContext
from resolvers.credentials import hash_secret, password_problem
from resolvers.errors import ErrorCode, Problems, fail
from resolvers.inputs import UNSET, given, parse_uuid
from resolvers.portal_auth import (
    EMAIL_MAX,
    SLUG_MAX,
    PortalSessionResult,
    email_key,
    open_portal_session,
    portal_login_key,
)
from resolvers.throttle import login_lock, throttle_address


def sign_up_key(ip: str) -> str:
    """The counter of one IP's sign-ups: a key of its own per IP (with a space, which no staff
    username has), so no other address's sign-ups can fill or empty it."""
    return login_key(f"portal sign-up {ip}")


TAKEN_MESSAGE = "An account with this email exists: log in instead."


@dataclass
class SignUpData:
    """What a sign-up gives, declared once: the schema's `PortalSignUpInput` is this class, so
    `location_id` is the API's ID (Strawberry reads these annotations in schema/portal.py, which
    spells `strawberry.ID` and `date` the same way). `mobile` is UNSET when left out: no mobile."""

    organization_slug: str
    email: str
    password: str
    first_name: str
    last_name: str
    date_of_birth: date
    location_id: strawberry.ID
    mobile: str | None = UNSET


async def _checked(
    organization: Organization, data: SignUpData, ctx: RequestContext
) -> tuple[ClientValidator, Location, str]:
    """The sign-up's location and values, validated as createClient's, with every problem at once."""
    parsed = parse_uuid(data.location_id)
    location = (
        await Location.filter(id=parsed, organization_id=organization.id, is_active=True).first() if parsed else None
    )
    if location is None:
        raise fail(ErrorCode.NOT_FOUND, "No such location.", "input", "locationId")
    problems = Problems()
    check = ClientValidator(problems, location, local_today(location, ctx.now()))
    for name in ("first_name", "last_name", "date_of_birth", "email", "mobile"):
        value = getattr(data, name)
        check.field(name, value if given(value) else None)  # a mobile left out is none
    email: str = check.values.get("email") or ""
    if not email and not problems:
        problems.add(ErrorCode.REQUIRED, "This field cannot be empty.", "input", "email")
    if problem := password_problem(data.password, data.email):
        problems.add(ErrorCode.PASSWORD_TOO_WEAK, problem, "input", "password")
    problems.raise_if_any()
    return check, location, email


async def portal_sign_up(ctx: RequestContext, data: SignUpData) -> PortalSessionResult:
    """A portal account and its PENDING_REVIEW client at the chosen location, and a session."""
    slug = data.organization_slug.strip().lower()
    organization = await Organization.filter(slug=slug).first() if len(slug) <= SLUG_MAX else None
    if organization is None:
        raise fail(ErrorCode.NOT_FOUND, "No such organization.", "input", "organizationSlug")
    ip = throttle_address(ctx.ip_address)
    # This process's sign-ups from one address take turns, as its logins for one username do: in a
    # burst each would read the address's count before any wrote it, and all would pass.
    async with login_lock(slug, sign_up_key(ip)):
        email_turn = await login_throttle.begin(ctx, organization.id, portal_login_key(data.email), ip)
        ip_turn = await login_throttle.begin(ctx, organization.id, sign_up_key(ip), ip)
        if email_turn.state.throttled or ip_turn.state.ip_locked:
            await login_throttle.succeeded(ctx, email_turn)  # nothing was tried: give the turns back
            await login_throttle.succeeded(ctx, ip_turn)
            raise fail(ErrorCode.LOGIN_THROTTLED, THROTTLED_MESSAGE)
        # Every sign-up that gets this far counts against the caller's IP, not only refused ones: one
        # address cannot flood the clinic's review queue with registrations.
        await login_throttle.failed(ctx, organization.id, ip_turn, sign_up_key(ip), ip)
    taken = False
    try:
        check, location, email = await _checked(organization, data, ctx)
        key = email_key(email)
        taken = (
            len(key) > EMAIL_MAX or await PortalAccount.filter(organization_id=organization.id, email_key=key).exists()
        )
        if taken:
            raise fail(ErrorCode.DUPLICATE, TAKEN_MESSAGE, "input", "email")
    finally:
        if taken:  # probing an email that has an account counts against that email, as a wrong password
            await login_throttle.failed(ctx, organization.id, email_turn, portal_login_key(data.email), ip)
        else:
            await login_throttle.succeeded(ctx, email_turn)
    password_hash = hash_secret(data.password)  # before the transaction: no write lock waits for argon2
    async with in_transaction():
        try:
            async with in_transaction():  # a savepoint: another sign-up may take the email first
                account = await PortalAccount.create(
                    organization_id=organization.id,
                    email=email,
                    password_hash=password_hash,
                    first_name=check.values["first_name"],
                    last_name=check.values["last_name"],
                )
        except IntegrityError:
            raise fail(ErrorCode.DUPLICATE, TAKEN_MESSAGE, "input", "email") from None
        client = await Client.create(
            organization_id=organization.id,
            location_id=location.id,
            timezone=location.timezone,
            status=ClientStatus.PENDING_REVIEW,
            source=ClientSource.ONLINE_REGISTRATION,
            sms_consent=False,
            **check.values,
        )
        await ClientPortalLink.create(
            organization_id=organization.id, client=client, account=account, relationship=ProxyRelationship.SELF
        )
        await audit.record(ctx, "client.register", organization_id=organization.id, about=client, by=account)
        return await open_portal_session(ctx, account)


# --------------------------------------------------------------------------- the staff side


async def reviewable_client(principal: Principal, client_id: Any, *path: str) -> Client:
    """A client the principal may see, at a location where it holds CLIENTS_MERGE; else NOT_FOUND
    (out of sight, as a missing one) or FORBIDDEN at `path`."""
    refusal = "This needs CLIENTS_MERGE at the client's location."
    return await client_to_act_on(principal, client_id, Permission.CLIENTS_MERGE, refusal, *path)


def online_registrations(principal: Principal) -> QuerySet[Client]:
    """The PENDING_REVIEW clients the principal may review (newest first is the page's order)."""
    query = Client.filter(client_q(principal), status=ClientStatus.PENDING_REVIEW)
    scope = principal.grants.scope(Permission.CLIENTS_MERGE)
    return query if scope is ALL else query.filter(location_id__in=sorted(scope))


async def approve_registration(ctx: RequestContext, client_id: Any) -> Client:
    """A registration that is a new patient: PENDING_REVIEW becomes ACTIVE."""
    principal = await ctx.require_principal()
    async with in_transaction():
        client = await reviewable_client(principal, client_id, "input", "id")
        if client.status is not ClientStatus.PENDING_REVIEW:
            raise fail(ErrorCode.INVALID, "Only a registration waiting for review can be approved.", "input", "id")
        now = ctx.now()
        updated = await Client.filter(id=client.id, version=client.version).update(
            status=ClientStatus.ACTIVE, version=F("version") + 1, updated_at=now
        )
        if not updated:
            raise fail(ErrorCode.CONFLICT, "Someone else changed this client first: reload it.", "input", "id")
        await audit.record(
            ctx,
            "client.approve",
            about=client,
            changes={"status": [ClientStatus.PENDING_REVIEW.value, ClientStatus.ACTIVE.value]},
        )
        return await Client.get(id=client.id)
