"""Helpers shared by the client tests (no tests here): providers and clients straight in the tables."""

from __future__ import annotations

import uuid
from typing import Any

from models.clients import Client
from models.enums import UserType
from models.organization import Location, Organization
from models.providers import Provider
from models.users import User
from permissions.catalog import Permission as P
from tests.conftest import Factory, Org, Staff


async def make_provider(user: User, name: str | None = None, **extra: Any) -> Provider:
    """The Provider row of a staff user (idempotent: returns the existing one)."""
    existing = await Provider.filter(user_id=user.id).first()
    if existing is not None:
        return existing
    name = name or user.display_name
    return await Provider.create(
        id=uuid.uuid4(),
        organization_id=user.organization_id,
        user=user,
        display_name=name,
        display_name_key=name.lower(),
        **extra,
    )


async def make_client(
    org: Organization | Org,
    location: Location,
    first: str,
    last: str,
    *,
    provider: Provider | None = None,
    **extra: Any,
) -> Client:
    organization = org.organization if isinstance(org, Org) else org
    extra.setdefault("timezone", "America/Toronto")
    return await Client.create(
        id=uuid.uuid4(),
        organization=organization,
        location=location,
        first_name=first,
        last_name=last,
        first_name_key=first.lower(),
        last_name_key=last.lower(),
        primary_provider=provider,
        **extra,
    )


async def staff_with(
    factory: Factory, org: Org, permissions: list[P], locations: list[Location], **extra: Any
) -> Staff:
    """A user at `locations` holding `permissions` through one unrestricted group."""
    group = await factory.group(org.organization, permissions)
    return await factory.user(org.organization, locations=locations, groups=[group], **extra)


async def provider_staff(factory: Factory, org: Org, locations: list[Location], name: str = "Dana Reyes") -> Staff:
    """A PROVIDER-type user with CLIENTS_READ_OWN and a Provider row."""
    first, last = name.split(" ", 1)
    staff = await staff_with(
        factory, org, [P.CLIENTS_READ_OWN], locations, type=UserType.PROVIDER, first_name=first, last_name=last
    )
    await make_provider(staff.user, name)
    return staff
