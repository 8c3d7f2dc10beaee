"""Partner integrations and their API tokens (docs/architecture.md "Principals and grants", "No
escalation").

An integration's grants are at most its creator's, checked by the one no-escalation rule
(`excess_grants`) when it is created and whenever it is widened or reactivated; issuing a token hands
the integration's grants to whoever holds the secret, so it needs them within the actor's too. All
of these take the organization's grant lock first, as every grant-changing mutation does. A token
never holds INTEGRATIONS_MANAGE (permissions/grants.py `NEVER_FOR_TOKENS`), so no token mints, widens
or revokes tokens or integrations. The secret (`tsk_` + 32 random bytes) is shown once; only its
SHA-256 and a recognisable prefix are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.integrations import ApiToken, Integration, IntegrationLocation
from permissions.catalog import Permission
from permissions.escalation import Excess, escalation_message, excess_grants
from permissions.grants import NEVER_FOR_TOKENS, NO_GRANTS, Grants, integration_grants
from permissions.principal import Principal
from resolvers import audit
from resolvers.admins import lock_grants
from resolvers.context import RequestContext
from resolvers.credentials import API_TOKEN_PREFIX, new_token, token_hash
from resolvers.errors import ErrorCode, Problems, fail
from resolvers.grant_set_input import GrantSetChanges, GrantSetData
from resolvers.inputs import UNSET, given, parse_uuid
from resolvers.integration_auth import known_permissions
from resolvers.location_ids import visible_locations

PREFIX_LENGTH = 12  # "tsk_" and 8 characters of the secret: enough to recognise, useless to guess
NAME_MAX = 200
MAX_LOCATIONS = 200


@dataclass
class CreateIntegrationData(GrantSetData):
    """`GrantSetData`'s fields and no more: a new integration works at its locations only unless
    `all_locations`."""


@dataclass
class UpdateIntegrationData(GrantSetChanges):
    is_active: bool | None = UNSET


@dataclass
class IssuedToken:
    token: ApiToken
    secret: str


def _name(value: str | None, problems: Problems) -> str:
    text = (value or "").strip()
    if not text:
        problems.add(ErrorCode.REQUIRED, "This field cannot be empty.", "input", "name")
    elif len(text) > NAME_MAX:
        problems.add(ErrorCode.INVALID, f"At most {NAME_MAX} characters.", "input", "name")
    return text


def _permissions(values: list[Permission], problems: Problems) -> list[Permission]:
    if any(p in NEVER_FOR_TOKENS for p in values):
        problems.add(
            ErrorCode.FORBIDDEN, "An integration never manages integrations or tokens.", "input", "permissions"
        )
    return sorted(set(values), key=lambda p: p.value)


async def _locations(principal: Principal, ids: list[Any], problems: Problems) -> list[str]:
    """The organization's locations the actor may reach, by id (one statement); each other one a
    NOT_FOUND at its index."""
    if len(ids) > MAX_LOCATIONS:
        problems.add(ErrorCode.INVALID, f"At most {MAX_LOCATIONS} locations.", "input", "locationIds")
        return []
    parsed, visible = await visible_locations(principal, ids)
    known = set(visible)
    for index, value in enumerate(parsed):
        if value is None or str(value) not in known:
            problems.add(ErrorCode.NOT_FOUND, "No such location.", "input", "locationIds", str(index))
    return sorted(known)


def configured_grants(permissions: list[Permission], all_locations: bool, location_ids: list[str]) -> Grants:
    """An integration's grants as configured, its deactivated locations included: a grant there comes
    alive when the location is reactivated, so it may not be given by someone who lacks it."""
    return integration_grants(permissions, all_locations, location_ids)


def _refuse_excess(actor: Grants, before: Grants, after: Grants, all_locations: bool) -> None:
    """FORBIDDEN, naming the field, when `after` adds what the actor does not hold: `permissions` for
    a permission the actor holds nowhere, else the field that sets where (allLocations/locationIds)."""
    excess = excess_grants(actor, before, after)
    if not excess:
        return
    nowhere = [e for e in excess if not actor.has_anywhere(e.permission)]
    where = "allLocations" if all_locations else "locationIds"
    fields: list[tuple[str, list[Excess]]] = [
        ("permissions", nowhere),
        (where, [e for e in excess if e not in nowhere]),
    ]
    problems = Problems()
    for name, items in fields:
        if items:
            problems.add(ErrorCode.FORBIDDEN, escalation_message(items), "input", name)
    problems.raise_if_any()


async def _location_ids(integration: Integration) -> list[str]:
    rows = await IntegrationLocation.filter(integration_id=integration.id).values_list("location_id", flat=True)
    return sorted(str(r) for r in rows)


async def _in_organization(principal: Principal, integration_id: Any, *path: str) -> Integration:
    parsed = parse_uuid(integration_id)
    found = await Integration.filter(id=parsed, organization_id=principal.organization_id).first() if parsed else None
    if found is None:
        raise fail(ErrorCode.NOT_FOUND, "No such integration.", *path)
    return found


async def create_integration(ctx: RequestContext, data: CreateIntegrationData) -> Integration:
    principal = await ctx.require_principal()
    async with in_transaction():
        await lock_grants(principal, Permission.INTEGRATIONS_MANAGE)
        problems = Problems()
        name = _name(data.name, problems)
        permissions = _permissions(data.permissions, problems)
        location_ids = [] if data.all_locations else await _locations(principal, data.location_ids, problems)
        problems.raise_if_any()
        after = configured_grants(permissions, data.all_locations, location_ids)
        _refuse_excess(principal.grants, NO_GRANTS, after, data.all_locations)
        integration = await Integration.create(
            organization_id=principal.organization_id,
            name=name,
            description=(data.description or "").strip() or None,
            permissions=[p.value for p in permissions],
            all_locations=data.all_locations,
            created_by_id=principal.user.id if principal.user else None,
        )
        await IntegrationLocation.bulk_create(
            [
                IntegrationLocation(
                    organization_id=principal.organization_id, integration_id=integration.id, location_id=loc
                )
                for loc in location_ids
            ]
        )
        await audit.record(
            ctx,
            "integration.create",
            about=integration,
            changes={
                "permissions": integration.permissions,
                "allLocations": data.all_locations,
                "locations": location_ids,
            },
        )
        return integration


async def update_integration(ctx: RequestContext, data: UpdateIntegrationData) -> Integration:
    principal = await ctx.require_principal()
    async with in_transaction():
        await lock_grants(principal, Permission.INTEGRATIONS_MANAGE)
        integration = await _in_organization(principal, data.id, "input", "id")
        await Integration.filter(id=integration.id).select_for_update().first()
        await integration.refresh_from_db()
        problems = Problems()
        current_permissions = known_permissions(integration.permissions)
        current_locations = await _location_ids(integration)
        name = _name(data.name, problems) if given(data.name) else integration.name
        permissions = _permissions(data.permissions or [], problems) if given(data.permissions) else current_permissions
        all_locations = bool(data.all_locations) if given(data.all_locations) else integration.all_locations
        location_ids = (
            await _locations(principal, data.location_ids or [], problems)
            if given(data.location_ids)
            else current_locations
        )
        if all_locations:
            location_ids = []
        active = bool(data.is_active) if given(data.is_active) else integration.is_active
        problems.raise_if_any()
        after = configured_grants(permissions, all_locations, location_ids)
        # Widening is checked whether or not it is active (an inactive one loaded with more than the actor
        # holds would wait for someone else's reactivation); reactivating gives its grants back whole,
        # so they must lie within the actor's (restoring is granting).
        before = configured_grants(current_permissions, integration.all_locations, current_locations)
        _refuse_excess(principal.grants, before, after, all_locations)
        if active and not integration.is_active:
            _refuse_excess(principal.grants, NO_GRANTS, after, all_locations)
        values = {
            "name": name,
            "description": (data.description or "").strip() or None
            if given(data.description)
            else integration.description,
            "permissions": [p.value for p in permissions],
            "all_locations": all_locations,
            "is_active": active,
        }
        changes = audit.diff(
            {**audit.snapshot(integration, values), "locations": current_locations},
            {**values, "locations": location_ids},
        )
        await Integration.filter(id=integration.id).update(**values, version=F("version") + 1, updated_at=ctx.now())
        if location_ids != current_locations:
            await IntegrationLocation.filter(integration_id=integration.id).delete()
            await IntegrationLocation.bulk_create(
                [
                    IntegrationLocation(
                        organization_id=principal.organization_id, integration_id=integration.id, location_id=loc
                    )
                    for loc in location_ids
                ]
            )
        await audit.record(ctx, "integration.update", about=integration, changes=changes)
        return await Integration.get(id=integration.id)


def _expiry(ctx: RequestContext, wanted: datetime | None) -> datetime:
    """The token's expiry: as asked, but never past the organization's longest lifetime (an absent
    expiry is that longest one, as GitHub's organization policy does)."""
    now = ctx.now()
    longest = now + timedelta(days=ctx.settings.api_token_max_days)
    if wanted is not None and wanted <= now:
        raise fail(ErrorCode.INVALID, "The expiry must be in the future.", "input", "expiresAt")
    return min(wanted, longest) if wanted is not None else longest


async def create_api_token(
    ctx: RequestContext, integration_id: Any, name: str, expires_at: datetime | None
) -> IssuedToken:
    """A new token of the integration; its secret is returned here and nowhere else, ever."""
    principal = await ctx.require_principal()
    async with in_transaction():
        await lock_grants(principal, Permission.INTEGRATIONS_MANAGE)
        integration = await _in_organization(principal, integration_id, "input", "integrationId")
        problems = Problems()
        token_name = _name(name, problems)
        problems.raise_if_any()
        if not integration.is_active:
            raise fail(ErrorCode.INVALID, "This integration is deactivated.", "input", "integrationId")
        # Whoever holds the secret acts with the integration's grants: handing them over is granting.
        grants = configured_grants(
            known_permissions(integration.permissions), integration.all_locations, await _location_ids(integration)
        )
        excess = excess_grants(principal.grants, NO_GRANTS, grants)
        if excess:
            raise fail(ErrorCode.FORBIDDEN, escalation_message(excess), "input", "integrationId")
        secret = new_token(API_TOKEN_PREFIX)
        token = await ApiToken.create(
            organization_id=principal.organization_id,
            integration_id=integration.id,
            name=token_name,
            prefix=secret[:PREFIX_LENGTH],
            token_hash=token_hash(secret),
            expires_at=_expiry(ctx, expires_at),
            created_by_id=principal.user.id if principal.user else None,
        )
        await audit.record(
            ctx,
            "integration.token_create",
            about=integration,
            changes={"token": str(token.id), "prefix": token.prefix, "expiresAt": token.expires_at},
        )
        return IssuedToken(token, secret)


async def revoke_api_token(ctx: RequestContext, token_id: Any) -> None:
    """Revoke a token: the very next request with it is refused."""
    principal = await ctx.require_principal()
    parsed = parse_uuid(token_id)
    async with in_transaction():
        token = await ApiToken.filter(id=parsed, organization_id=principal.organization_id).first() if parsed else None
        if token is None:
            raise fail(ErrorCode.NOT_FOUND, "No such token.", "input", "id")
        if token.revoked_at is None:
            await ApiToken.filter(id=token.id, revoked_at__isnull=True).update(revoked_at=ctx.now())
        await audit.record(
            ctx,
            "integration.token_revoke",
            target_type=audit.Target.INTEGRATION,
            target_id=token.integration_id,
            changes={"token": str(token.id), "prefix": token.prefix},
        )


def integrations_of(principal: Principal) -> Any:
    return Integration.filter(organization_id=principal.organization_id).order_by("name", "id")
