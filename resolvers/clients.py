"""Clients (patients, article 002): create, update, archive, and the scoped queries behind
"All Clients", "My Clients" and the client profile.

Input arrives as the dataclasses of resolvers/client_input.py (a field left out on update is UNSET,
"unchanged"; None means "clear"), so tests call these without GraphQL; it is checked and normalized
there. Every path to a client goes through
`permissions.scoping.client_q` / `can_see_client`: an out-of-scope or other-organization id is
NOT_FOUND exactly like a random one.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import prepared
from models.clients import Client
from models.enums import OPEN_CLIENT_STATUS, ClientStatus, ProviderStatus
from models.keys import search_key
from models.organization import Location
from models.providers import Provider
from models.users import UserLocation
from permissions.catalog import Permission
from permissions.errors import forbidden
from permissions.principal import Principal
from permissions.scoping import can_see_location, client_q, provider_q
from resolvers import audit, invitations
from resolvers.client_input import (
    ADDRESS_FIELDS,
    COVERAGE_READ_FIELDS,
    PROFILE_FIELDS,
    ClientFilterData,
    ClientValidator,
    CoverageData,
    CreateClientData,
    UpdateClientData,
    check_sms_consent,
    local_today,
)
from resolvers.client_lookup import visible_client
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, Problems, fail
from resolvers.health_cards import normalize_card_number
from resolvers.inputs import given, parse_uuid, search_text
from resolvers.providers import effective_status
from resolvers.validation import normalize_phone

# Everything the audit diff looks at (health_card_number is redacted to its last 4 there).
AUDITED = (
    *PROFILE_FIELDS,
    *(f"address_{f}" for f in ADDRESS_FIELDS),
    *COVERAGE_READ_FIELDS,
    "location_id",
    "primary_provider_id",
    "status",
)


PORTAL_MOVE_MESSAGE = (
    "This client has portal access (accounts or pending invitations), which the move would bring to the new "
    "location: that needs CLIENT_PORTAL_MANAGE there."
)


# --------------------------------------------------------------------------- lookups
# The location and provider an input names, checked against the database and the actor's grants.


async def _location_for(principal: Principal, location_id: Any, path: tuple[str, ...], problems: Problems) -> Any:
    """The organization's location, active, in the actor's scope and with CLIENTS_MANAGE there."""
    parsed = parse_uuid(location_id)
    location = await Location.filter(id=parsed, organization_id=principal.organization_id).first() if parsed else None
    if location is None or not can_see_location(principal, str(location.id)):
        problems.add(ErrorCode.NOT_FOUND, "No such location.", *path)
        return None
    if not location.is_active:
        problems.add(ErrorCode.INVALID, "This location is not active.", *path)
        return None
    if not principal.grants.has(Permission.CLIENTS_MANAGE, str(location.id)):
        problems.add(ErrorCode.FORBIDDEN, "You may not manage clients at this location.", *path)
        return None
    return location


async def _provider_problem(
    principal: Principal, provider_id: Any, location: Location, now: datetime
) -> tuple[Any, str | None]:
    """(provider, problem code) for a primary provider: active (a scheduled deactivation whose date has
    passed counts as inactive, job or not) and practising at `location`."""
    parsed = parse_uuid(provider_id)
    provider = (
        await Provider.filter(id=parsed, organization_id=principal.organization_id).select_related("user").first()
        if parsed
        else None
    )
    if provider is None:
        return None, ErrorCode.NOT_FOUND
    practises = provider.user.all_locations or await UserLocation.exists(
        user_id=provider.user_id, location_id=location.id
    )
    if not practises and not await Provider.filter(provider_q(principal), id=provider.id).exists():
        # Neither at the client's location nor visible to the actor: as if it did not exist, or
        # the answer would tell that a provider works somewhere the actor cannot see.
        return None, ErrorCode.NOT_FOUND
    inactive = effective_status(provider, now) is ProviderStatus.INACTIVE or not provider.user.is_active
    if not practises or inactive:
        return provider, ErrorCode.INVALID
    return provider, None


async def _check_provider(
    principal: Principal, provider_id: Any, location: Location | None, problems: Problems, now: datetime
) -> uuid.UUID | None:
    """The primary provider's id if it may be one at `location`; else None, with the problem recorded."""
    if provider_id is None or location is None:
        return None
    provider, code = await _provider_problem(principal, provider_id, location, now)
    path = ("input", "primaryProviderId")
    if code is ErrorCode.NOT_FOUND:
        problems.add(code, "No such provider.", *path)
    elif code is ErrorCode.INVALID:
        problems.add(code, "The provider is not active or does not practise at the client's location.", *path)
    return provider.id if provider is not None and code is None else None


# --------------------------------------------------------------------------- mutations


async def create_client(ctx: RequestContext, data: CreateClientData) -> Client:
    """A new ACTIVE client at a location where the actor holds CLIENTS_MANAGE."""
    principal = await ctx.require_principal()
    async with in_transaction():
        problems = Problems()
        location = await _location_for(principal, data.location_id, ("input", "locationId"), problems)
        if location is None:
            problems.raise_if_any()
        assert location is not None
        if data.send_portal_invitation and not principal.grants.has(Permission.CLIENT_PORTAL_MANAGE, str(location.id)):
            problems.add(
                ErrorCode.FORBIDDEN,
                "Sending a portal invitation needs CLIENT_PORTAL_MANAGE at the location.",
                "input",
                "sendPortalInvitation",
            )
        if data.send_portal_invitation and not data.email:
            problems.add(ErrorCode.REQUIRED, "A portal invitation is sent to the client's email.", "input", "email")
        if data.coverage is not None and not principal.grants.has(Permission.CLIENTS_COVERAGE_MANAGE, str(location.id)):
            problems.add(ErrorCode.FORBIDDEN, "Entering coverage needs CLIENTS_COVERAGE_MANAGE.", "input", "coverage")
        check = ClientValidator(problems, location, local_today(location, ctx.now()))
        for name in PROFILE_FIELDS:
            if name == "timezone" and data.timezone is None:
                check.values["timezone"] = location.timezone
                continue
            check.field(name, getattr(data, name))
        check.address(data.address)
        check.coverage(data.coverage or CoverageData(), {})
        provider_id = await _check_provider(principal, data.primary_provider_id, location, problems, ctx.now())
        check_sms_consent(check.values, problems)
        problems.raise_if_any()
        values = check.values
        client = await Client.create(
            organization_id=principal.organization_id,
            location_id=location.id,
            primary_provider_id=provider_id,
            **values,
        )
        await audit.record(ctx, "client.create", about=client, changes=audit.diff({}, audit.snapshot(client, AUDITED)))
        if data.send_portal_invitation:
            assert client.email is not None
            await invitations.issue_invitation(
                ctx, client, invitations.InviteData(client.id, client.email), created_by=principal.user, claim=True
            )
    return client


def coverage_only(data: UpdateClientData) -> bool:
    """Whether the update changes coverage and nothing else: then CLIENTS_COVERAGE_MANAGE at the
    client's location is all it needs (a coverage clerk need not hold CLIENTS_MANAGE); any other
    field needs CLIENTS_MANAGE, and coverage given with it still needs CLIENTS_COVERAGE_MANAGE.
    A null coverage changes nothing, so it is no coverage change: alone, it is an empty update,
    which (like any other) needs CLIENTS_MANAGE rather than slipping past both checks."""
    fields = (name for name in UpdateClientData.__dataclass_fields__ if name not in ("id", "expected_version"))
    touched = {name for name in fields if given(getattr(data, name))}
    if data.coverage is None:
        touched.discard("coverage")
    return touched == {"coverage"}


async def update_client(ctx: RequestContext, data: UpdateClientData) -> Client:
    """Change the fields given; `expected_version`, when given, must match (else CONFLICT).

    Moving the client needs CLIENTS_MANAGE at both locations, and CLIENT_PORTAL_MANAGE at the new one
    when portal access comes with it. The write is guarded by the version it read, so of two
    concurrent saves exactly one wins and the other gets CONFLICT.
    """
    principal = await ctx.require_principal()
    async with in_transaction():
        client = await visible_client(principal, data.id)
        if client is None:
            raise fail(ErrorCode.NOT_FOUND, "No such client.", "input", "id")
        if client.status is ClientStatus.MERGED:
            raise fail(ErrorCode.INVALID, "A merged client cannot be edited; edit the client it was merged into.")
        if not coverage_only(data) and not principal.grants.has(Permission.CLIENTS_MANAGE, str(client.location_id)):
            # Coverage alone needs only CLIENTS_COVERAGE_MANAGE (checked below): each field its own.
            raise fail(ErrorCode.FORBIDDEN, "You may not manage clients at this location.", "input", "id")
        expected = data.expected_version
        if given(expected) and expected is not None and expected != client.version:
            raise fail(
                ErrorCode.CONFLICT, "Someone else saved this client first: reload it.", "input", "expectedVersion"
            )
        problems = Problems()
        location = await Location.get(id=client.location_id)
        if (
            given(data.location_id)
            and data.location_id is not None
            and parse_uuid(data.location_id) != client.location_id
        ):
            location = await _location_for(principal, data.location_id, ("input", "locationId"), problems)
            if location is None:
                problems.raise_if_any()
            assert location is not None
        # A move brings the client's portal access along: else a client moved to where the actor may
        # invite, invited, and moved back would carry home portal access the actor could not give there.
        moves_portal = location.id != client.location_id and not principal.grants.has(
            Permission.CLIENT_PORTAL_MANAGE, str(location.id)
        )
        if moves_portal and await invitations.has_portal_access(client.id, ctx.now()):
            problems.add(ErrorCode.FORBIDDEN, PORTAL_MOVE_MESSAGE, "input", "locationId")
        coverage = data.coverage if given(data.coverage) else None
        if coverage is not None and not (
            principal.grants.has(Permission.CLIENTS_COVERAGE_MANAGE, str(client.location_id))
            and principal.grants.has(Permission.CLIENTS_COVERAGE_MANAGE, str(location.id))
        ):
            problems.add(ErrorCode.FORBIDDEN, "Changing coverage needs CLIENTS_COVERAGE_MANAGE.", "input", "coverage")
        before = audit.snapshot(client, AUDITED)
        check = ClientValidator(problems, location, local_today(location, ctx.now()))
        for name in PROFILE_FIELDS:
            if given(value := getattr(data, name)):
                check.field(name, value)
        if given(data.address):
            check.address(data.address)
        if coverage is not None:
            check.coverage(coverage, before)
        if given(data.primary_provider_id):
            check.values["primary_provider_id"] = await _check_provider(
                principal, data.primary_provider_id, location, problems, ctx.now()
            )
        elif location.id != client.location_id and client.primary_provider_id is not None:
            # A move keeps the provider only if they practise at the new location too.
            _, code = await _provider_problem(principal, client.primary_provider_id, location, ctx.now())
            if code is not None:
                problems.add(
                    ErrorCode.INVALID,
                    "The primary provider does not practise at the new location: choose another.",
                    "input",
                    "primaryProviderId",
                )
        check_sms_consent({"sms_consent": client.sms_consent, "mobile": client.mobile, **check.values}, problems)
        problems.raise_if_any()
        values = {**check.values, **Client.keys_for(check.values)}
        values["location_id"] = location.id
        values["version"] = client.version + 1
        values["updated_at"] = ctx.now()
        updated = await Client.filter(id=client.id, version=client.version).update(**values)
        if not updated:
            raise fail(
                ErrorCode.CONFLICT, "Someone else saved this client first: reload it.", "input", "expectedVersion"
            )
        if moves_portal and await invitations.has_portal_access(client.id, ctx.now()):
            # Asked again now that the write holds the row: an invitation takes it first
            # (`invitations._managed_client`), so one made meanwhile is seen here and undoes the move.
            raise fail(ErrorCode.FORBIDDEN, PORTAL_MOVE_MESSAGE, "input", "locationId")
        client.update_from_dict(values)
        await audit.record(
            ctx, "client.update", about=client, changes=audit.diff(before, audit.snapshot(client, AUDITED))
        )
    return client


async def archive_client(ctx: RequestContext, client_id: Any) -> Client:
    """Archive (never delete: docs/architecture.md "Data") a client; archiving an archived client changes nothing."""
    principal = await ctx.require_principal()
    async with in_transaction():
        client = await visible_client(principal, client_id)
        if client is None:
            raise fail(ErrorCode.NOT_FOUND, "No such client.", "input", "id")
        if not principal.grants.has(Permission.CLIENTS_MANAGE, str(client.location_id)):
            raise fail(ErrorCode.FORBIDDEN, "You may not manage clients at this location.", "input", "id")
        if client.status is ClientStatus.MERGED:
            raise fail(ErrorCode.INVALID, "A merged client cannot be archived.", "input", "id")
        if client.status is ClientStatus.ARCHIVED:
            return client
        now = ctx.now()
        updated = await Client.filter(id=client.id, version=client.version).update(
            status=ClientStatus.ARCHIVED, version=client.version + 1, updated_at=now
        )
        if not updated:
            raise fail(ErrorCode.CONFLICT, "Someone else saved this client first: reload it.", "input", "id")
        await audit.record(
            ctx, "client.archive", about=client, changes={"status": [client.status.value, ClientStatus.ARCHIVED.value]}
        )
        # Nobody gains portal access to an archived client: its pending invitations are revoked.
        await invitations.revoke_pending(client.id, now)
        client.status, client.version, client.updated_at = ClientStatus.ARCHIVED, client.version + 1, now
    return client


# --------------------------------------------------------------------------- queries


async def get_client(
    ctx: RequestContext, client_id: Any, reading: Callable[[QuerySet[Client]], QuerySet[Client]] | None = None
) -> Client | None:
    """The client if the viewer may see it; None otherwise (indistinguishable from a missing id).
    `reading` may make the one statement read more columns (joined relations), never fewer rows."""
    principal = await ctx.require_principal()
    parsed = parse_uuid(client_id)
    if parsed is None:
        return None
    query = Client.filter(client_q(principal), id=parsed)
    return await prepared.execute((reading(query) if reading is not None else query).first())


def _search_q(search: str, region: str = "CA") -> Q:
    """Prefix of first, last or preferred name, email, or mobile (indexed lower-cased keys)."""
    text = search_key(search_text(search))
    clauses = [
        Q(first_name_key__startswith=text),
        Q(last_name_key__startswith=text),
        Q(preferred_name_key__startswith=text),
        Q(email_key__startswith=text),
    ]
    digits = re.sub(r"[^\d+]", "", text)
    if len(digits.lstrip("+")) >= 3 and re.fullmatch(r"[\d\s()+.\-]+", text):
        with contextlib.suppress(ValueError):
            clauses.append(Q(mobile=normalize_phone(text, region)))
        if digits.startswith("+"):
            clauses.append(Q(mobile__startswith=digits))
        else:
            clauses.append(Q(mobile__startswith="+" + digits))
            clauses.append(Q(mobile__startswith="+1" + digits))
    return Q(*clauses, join_type=Q.OR)


def _id_filter(field: str, value: Any) -> Q:
    parsed = parse_uuid(value)
    match: dict[str, Any] = {field: parsed}
    return Q(**match) if parsed is not None else Q(id__in=[])


async def clients_query(ctx: RequestContext, filter: ClientFilterData | None) -> QuerySet:
    """The viewer's "All Clients" (CLIENTS_READ locations, plus their own with CLIENTS_READ_OWN),
    filtered; ready for keyset pagination."""
    principal = await ctx.require_principal()
    filter = filter or ClientFilterData()
    query = Client.filter(client_q(principal))
    statuses = filter.status
    if statuses is None:
        statuses = [ClientStatus.ACTIVE]
    query = query.filter(status__in=[ClientStatus(s) for s in statuses])
    if filter.search:
        query = query.filter(_search_q(filter.search))
    if filter.location_id is not None:
        query = query.filter(_id_filter("location_id", filter.location_id))
    if filter.primary_provider_id is not None:
        query = query.filter(_id_filter("primary_provider_id", filter.primary_provider_id))
    if filter.date_of_birth is not None:
        query = query.filter(date_of_birth=filter.date_of_birth)
    if filter.health_card_number is not None:
        # A filter on a guarded value needs the guard's permission, or it would be an oracle.
        if not principal.grants.has_anywhere(Permission.CLIENTS_COVERAGE_READ):
            raise forbidden("Filtering by health card number needs CLIENTS_COVERAGE_READ.")
        where = principal.grants.locations(Permission.CLIENTS_COVERAGE_READ)
        query = query.filter(health_card_number=normalize_card_number(filter.health_card_number) or "")
        if where is not None:
            query = query.filter(location_id__in=sorted(where))
    return query


async def my_clients_query(ctx: RequestContext) -> QuerySet:
    """ "My Clients": open clients (`OPEN_CLIENT_STATUS`, as a provider's `clientCount`) whose primary
    provider is the viewer, within the viewer's scope."""
    principal = await ctx.require_principal()
    if not (
        principal.grants.has_anywhere(Permission.CLIENTS_READ_OWN)
        or principal.grants.has_anywhere(Permission.CLIENTS_READ)
    ):
        raise forbidden("This needs the CLIENTS_READ_OWN or CLIENTS_READ permission.")
    if principal.user is None:
        return Client.filter(id__in=[])
    return Client.filter(client_q(principal), primary_provider__user_id=principal.user.id, status=OPEN_CLIENT_STATUS)
