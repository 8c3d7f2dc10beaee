"""Locations (sites): create, update, deactivate, and the reads scoped to the viewer.

Names are unique per organization regardless of case (`name_key`). A deactivated location keeps
its rows; the grants statement reads only active locations, so everyone's grants there end on the
very next request without touching a single membership.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import phonenumbers
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.groups import GroupLocation, GroupMembership
from models.integrations import Integration
from models.keys import search_key
from models.organization import Location
from models.users import UserLocation
from permissions.catalog import Permission
from permissions.escalation import Excess, escalation_message, excess_grants
from permissions.grants import NO_GRANTS, integration_grants
from permissions.principal import Principal
from permissions.scoping import location_q
from resolvers import admins, audit
from resolvers.addresses import normalize_postal_code, normalize_province
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, Problems, fail
from resolvers.inputs import UNSET, given, parse_uuid
from resolvers.integration_auth import known_permissions
from resolvers.user_grants import load_access
from resolvers.validation import check_timezone, normalize_phone

FIELDS = (
    "name",
    "timezone",
    "phone",
    "address_line1",
    "address_line2",
    "address_city",
    "address_province",
    "address_postal_code",
    "address_country",
    "is_active",
)


@dataclass
class AddressData:
    """An address as typed; None fields were not given."""

    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    province: str | None = None
    postal_code: str | None = None
    country: str | None = None


@dataclass
class CreateLocationData:
    name: str
    timezone: str
    phone: str | None = None
    address: AddressData | None = None


@dataclass
class UpdateLocationData:
    """Every field but `id` may be UNSET (left out); `address` replaces the whole address."""

    id: str
    name: str | None = UNSET
    timezone: str | None = UNSET
    phone: str | None = UNSET
    address: AddressData | None = UNSET


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def address_columns(address: AddressData, problems: Problems, *path: str) -> dict[str, Any]:
    """The address_* columns for `address`, with ISO codes checked (country defaults to CA)."""
    country = (_clean(address.country) or "CA").upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        problems.add(ErrorCode.INVALID, "Use an ISO 3166-1 alpha-2 country code such as CA.", *path, "country")
    province = postal_code = None
    try:
        province = normalize_province(address.province, country)
    except ValueError as error:
        problems.add(ErrorCode.INVALID, str(error), *path, "province")
    try:
        postal_code = normalize_postal_code(address.postal_code, country)
    except ValueError as error:
        problems.add(ErrorCode.INVALID, str(error), *path, "postalCode")
    columns = {
        "address_line1": _clean(address.line1),
        "address_line2": _clean(address.line2),
        "address_city": _clean(address.city),
        "address_province": province,
        "address_postal_code": postal_code,
        "address_country": country,
    }
    for column, field in _ADDRESS_FIELDS.items():
        field_def: Any = Location._meta.fields_map[column]
        limit = int(field_def.max_length)
        value = columns[column]
        if value is not None and len(value) > limit:
            problems.add(ErrorCode.INVALID, f"At most {limit} characters.", *path, field)
    return columns


# The free-text address columns and their input fields, checked against the columns' lengths
# (province and country are checked as codes above).
_ADDRESS_FIELDS = {
    "address_line1": "line1",
    "address_line2": "line2",
    "address_city": "city",
    "address_postal_code": "postalCode",
}


def _check_common(
    values: dict[str, Any],
    problems: Problems,
    *,
    name: Any,
    timezone: Any,
    phone: Any,
    address: Any,
) -> None:
    if given(name):
        if name is None or not name.strip():
            problems.add(ErrorCode.REQUIRED, "A location needs a name.", "input", "name")
        elif len(name.strip()) > 200:
            problems.add(ErrorCode.INVALID, "A location name is at most 200 characters.", "input", "name")
        else:
            values["name"] = name.strip()
    if given(timezone):
        try:
            values["timezone"] = check_timezone((timezone or "").strip())
        except ValueError as error:
            problems.add(ErrorCode.INVALID, str(error), "input", "timezone")
    if given(phone):
        if _clean(phone) is None:
            values["phone"] = None
        else:
            try:
                values["phone"] = normalize_phone(phone)
            except ValueError as error:
                problems.add(ErrorCode.INVALID, str(error), "input", "phone")
    if given(address):
        values.update(address_columns(address or AddressData(), problems, "input", "address"))


async def list_locations(ctx: RequestContext, include_inactive: bool = False) -> list[Location]:
    """The locations the viewer may reach (its sites, or all with LOCATIONS_MANAGE), by name."""
    principal = await ctx.require_principal()
    query = Location.filter(location_q(principal))
    if not include_inactive:
        query = query.filter(is_active=True)
    return await query.order_by("name_key", "id")


async def get_location(ctx: RequestContext, location_id: Any) -> Location | None:
    """One location, or None when unknown, malformed, another organization's or out of reach."""
    principal = await ctx.require_principal()
    lid = parse_uuid(location_id)
    if lid is None:
        return None
    return await Location.filter(location_q(principal), id=lid).first()


async def _load_for_change(ctx: RequestContext, location_id: Any) -> Location:
    """The location to change, locked; out of reach (which LOCATIONS_MANAGE never is) is NOT_FOUND."""
    principal = await ctx.require_principal()
    lid = parse_uuid(location_id)
    location = await Location.filter(location_q(principal), id=lid).select_for_update().first() if lid else None
    if location is None:
        raise fail(ErrorCode.NOT_FOUND, "No such location.", "input", "id")
    return location


async def _record(ctx: RequestContext, action: str, location: Location, before: dict[str, Any]) -> None:
    """The audit event of a change to `location`: its fields before (`{}` for a new one) and now."""
    await audit.record(
        ctx,
        action,
        about=location,
        changes=audit.diff(before, audit.snapshot(location, FIELDS)),
    )


async def _save_unique(action: Any) -> Any:
    """Run a write that may hit the name's unique index inside a savepoint (PostgreSQL aborts the
    whole transaction on a caught IntegrityError otherwise)."""
    try:
        async with in_transaction():
            return await action()
    except IntegrityError:
        raise fail(ErrorCode.DUPLICATE, "Another location already has this name.", "input", "name") from None


async def create_location(ctx: RequestContext, data: CreateLocationData) -> Location:
    principal = await ctx.require_principal()
    problems = Problems()
    values: dict[str, Any] = {}
    _check_common(values, problems, name=data.name, timezone=data.timezone, phone=data.phone, address=data.address)
    problems.raise_if_any()
    org_id = principal.organization.id
    async with in_transaction():
        if await Location.exists(organization_id=org_id, name_key=search_key(values["name"])):
            raise fail(ErrorCode.DUPLICATE, "Another location already has this name.", "input", "name")
        location = await _save_unique(lambda: Location.create(organization_id=org_id, is_active=True, **values))
        await _record(ctx, "location.create", location, {})
    return location


async def update_location(ctx: RequestContext, data: UpdateLocationData) -> Location:
    """Change the given fields (an omitted one stays; `address` replaces the whole address)."""
    problems = Problems()
    values: dict[str, Any] = {}
    timezone = data.timezone
    if timezone is None:
        problems.add(ErrorCode.REQUIRED, "A location needs a timezone.", "input", "timezone")
        timezone = UNSET
    _check_common(values, problems, name=data.name, timezone=timezone, phone=data.phone, address=data.address)
    problems.raise_if_any()
    async with in_transaction():
        location = await _load_for_change(ctx, data.id)
        before = audit.snapshot(location, FIELDS)
        if "name" in values:
            key = search_key(values["name"])
            if (
                await Location.filter(organization_id=location.organization_id, name_key=key)
                .exclude(id=location.id)
                .exists()
            ):
                raise fail(ErrorCode.DUPLICATE, "Another location already has this name.", "input", "name")
        for column, value in values.items():
            setattr(location, column, value)
        if values:
            location.version += 1
            await _save_unique(lambda: location.save())
        await _record(ctx, "location.update", location, before)
    return location


async def _check_reactivation(principal: Principal, location: Location) -> None:
    """Reactivating a location gives back the grants it carried, to every user (through its sites and
    its groups) and integration configured there: restoring is granting, so all of it must lie
    within the actor's own grants (docs/architecture.md "No escalation")."""
    lid = str(location.id)
    org = location.organization_id
    group_ids = await GroupLocation.filter(organization_id=org, location_id=location.id).values_list(
        "group_id", flat=True
    )
    user_ids = {
        *await UserLocation.filter(organization_id=org, location_id=location.id).values_list("user_id", flat=True),
        *await GroupMembership.filter(organization_id=org, group_id__in=list(group_ids)).values_list(
            "user_id", flat=True
        ),
    }
    excess: list[Excess] = []
    for access in (await load_access(org, user_ids)).values():
        before = access.sources(inactive_locations=False).grants()
        after = access.sources(inactive_locations=False, reactivated=lid).grants()
        excess += excess_grants(principal.grants, before, after)
    integrations = await Integration.filter(
        organization_id=org, is_active=True, all_locations=False, location_links__location_id=location.id
    ).values_list("permissions", flat=True)
    for permissions in integrations:
        given_back = integration_grants(known_permissions(list(permissions)), False, {lid})
        excess += excess_grants(principal.grants, NO_GRANTS, given_back)
    if excess:
        message = escalation_message(list(dict.fromkeys(excess)))  # one line per grant, however many hold it
        raise fail(
            ErrorCode.FORBIDDEN,
            f"Reactivating this location would give back access you do not hold. {message}",
            "input",
            "active",
        )


async def set_location_active(ctx: RequestContext, location_id: Any, active: bool) -> Location:
    """Deactivate (or reactivate) a location: its rows stay, the grants it carried end at once (and
    come back with it, which only someone holding them may do: `_check_reactivation`)."""
    async with in_transaction():
        location = await _load_for_change(ctx, location_id)
        before = audit.snapshot(location, FIELDS)
        if active and not location.is_active:
            principal = await ctx.require_principal()
            await admins.lock_grants(principal, Permission.LOCATIONS_MANAGE)
            await _check_reactivation(principal, location)
        if location.is_active != active:
            location.is_active = active
            location.version += 1
            await location.save(update_fields=["is_active", "version", "updated_at"])
        await _record(ctx, "location.activate" if active else "location.deactivate", location, before)
    return location
