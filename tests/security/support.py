"""Helpers for the security tests (no tests here): rows straight in the tables, small GraphQL helpers."""

from __future__ import annotations

import uuid
from typing import Any

from models.clients import Client
from models.organization import Location
from models.providers import Provider
from models.users import User
from permissions.catalog import Permission as P
from tests.conftest import Factory, Org, Staff


async def staff(factory: Factory, org: Org, permissions: list[P], locations: list[Location], **extra: Any) -> Staff:
    """A user at `locations` holding `permissions` through one unrestricted group."""
    group = await factory.group(org.organization, permissions)
    return await factory.user(org.organization, locations=locations, groups=[group], **extra)


async def provider_of(user: User, name: str | None = None, **extra: Any) -> Provider:
    name = name or f"Dr {user.first_name} {user.last_name}"
    return await Provider.create(
        id=uuid.uuid4(),
        organization_id=user.organization_id,
        user=user,
        display_name=name,
        display_name_key=name.lower(),
        **extra,
    )


async def client_at(org: Org, location: Location, first: str, last: str, **extra: Any) -> Client:
    extra.setdefault("timezone", "America/Toronto")
    return await Client.create(
        id=uuid.uuid4(),
        organization=org.organization,
        location=location,
        first_name=first,
        last_name=last,
        first_name_key=first.lower(),
        last_name_key=last.lower(),
        **extra,
    )


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def payload_codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload.get("errors") or []]
