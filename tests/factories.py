"""Rows for tests, straight in the tables: the one place that makes organizations, locations, groups,
staff users with sessions, providers, clients and portal accounts (no tests here; the `factory` fixture hands out a
`Factory`). Models fill their own search keys (`models/keys.py`), so nothing here computes one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from models.audit import AuditEvent
from models.clients import Client
from models.enums import AccessStatus, ActorKind, ProxyRelationship, UserType
from models.groups import GroupLocation, GroupMembership, PermissionGroup
from models.integrations import ApiToken, Integration, IntegrationLocation
from models.organization import Location, Organization
from models.outbox import OutboxMessage
from models.portal import ClientPortalLink, PortalAccount, PortalSession
from models.providers import Provider
from models.sessions import Session
from models.users import User, UserLocation
from permissions.catalog import Permission
from resolvers import outbox
from resolvers.credentials import (
    API_TOKEN_PREFIX,
    PORTAL_SESSION_PREFIX,
    STAFF_SESSION_PREFIX,
    hash_secret,
    new_token,
    token_hash,
)

PASSWORD = "violet-harbour-lantern-42"
PIN = "4827"
_PASSWORD_HASH: str | None = None
_PIN_HASH: str | None = None


def password_hash() -> str:
    """One argon2 hash for every test user (hashing is deliberately slow; do it once)."""
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_secret(PASSWORD)
    return _PASSWORD_HASH


def pin_hash() -> str:
    global _PIN_HASH
    if _PIN_HASH is None:
        _PIN_HASH = hash_secret(PIN)
    return _PIN_HASH


@dataclass
class Staff:
    """A user made by the factory, with a ready session token."""

    user: User
    token: str
    session: Session

    @property
    def actor_id(self) -> str:
        """Who the audit trail names when this principal acts."""
        return str(self.user.id)


@dataclass
class Portal:
    """A portal account made by the factory, with a ready portal session token."""

    account: PortalAccount
    token: str
    session: PortalSession

    @property
    def actor_id(self) -> str:
        return str(self.account.id)


@dataclass
class Org:
    """An organization with two locations (A1/A2 style) and its admin."""

    organization: Organization
    locations: list[Location]
    admin: Staff
    factory: Factory = field(repr=False)

    @property
    def id(self) -> str:
        return str(self.organization.id)


@dataclass
class Partner:
    """An integration made by the factory, with a ready API token (`tsk_...`)."""

    integration: Integration
    token: str
    api_token: ApiToken

    @property
    def actor_id(self) -> str:
        return str(self.integration.id)


class Factory:
    async def organization(self, slug: str | None = None, *, seat_limit: int | None = None) -> Org:
        slug = slug or f"org-{uuid.uuid4().hex[:8]}"
        org = await Organization.create(name=f"Clinic {slug}", slug=slug, seat_limit=seat_limit)
        locations = [await self.location(org, f"{slug} site {n}") for n in (1, 2)]
        admin = await self.user(org, username="admin", is_admin=True, all_locations=True, type=UserType.MANAGER)
        return Org(org, locations, admin, self)

    async def location(self, org: Organization, name: str, *, active: bool = True) -> Location:
        return await Location.create(
            organization=org,
            name=name,
            timezone="America/Toronto",
            address_province="ON",
            address_country="CA",
            is_active=active,
        )

    async def group(
        self,
        org: Organization,
        permissions: list[Permission],
        *,
        name: str | None = None,
        locations: list[Location] | None = None,
    ) -> PermissionGroup:
        group = await PermissionGroup.create(
            organization=org,
            name=name or f"group {uuid.uuid4().hex[:6]}",
            permission_codes=",".join(p.value for p in permissions),
            all_locations=locations is None,
        )
        for loc in locations or []:
            await GroupLocation.create(organization=org, group=group, location=loc)
        return group

    async def user(
        self,
        org: Organization,
        *,
        username: str | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        type: UserType = UserType.FRONT_DESK,
        is_admin: bool = False,
        all_locations: bool = False,
        locations: list[Location] | None = None,
        groups: list[PermissionGroup] | None = None,
        access: AccessStatus = AccessStatus.ENABLED,
        active: bool = True,
        password_reset_required: bool = False,
        with_pin: bool = True,
        email: str | None = None,
        session: bool = True,
        **extra: Any,
    ) -> Staff:
        username = username or f"user{uuid.uuid4().hex[:8]}"
        user = await User.create(
            organization=org,
            username=username,
            first_name=first_name,
            last_name=last_name or username.capitalize(),
            type=type,
            email=email or f"{username}@clinic.example",
            is_admin=is_admin,
            is_active=active,
            password_hash=password_hash(),
            pin_hash=pin_hash() if with_pin else None,
            password_reset_required=password_reset_required,
            access_status=access,
            all_locations=all_locations,
            **extra,
        )
        for loc in locations or []:
            await UserLocation.create(organization=org, user=user, location=loc)
        for group in groups or []:
            await GroupMembership.create(organization=org, group=group, user=user)
        token, sess = (await self.session(user)) if session else ("", None)
        return Staff(user, token, sess)  # type: ignore[arg-type]

    async def session(self, user: User, *, idle_for: timedelta = timedelta(0)) -> tuple[str, Session]:
        """A session straight in the table (no argon2): what `login` would have made."""
        now = datetime.now(UTC)
        token = new_token(STAFF_SESSION_PREFIX)
        sess = await Session.create(
            organization_id=user.organization_id,
            user=user,
            token_hash=token_hash(token),
            last_seen_at=now - idle_for,
            expires_at=now + timedelta(hours=12),
        )
        return token, sess

    async def portal_account(
        self,
        org: Organization | Org,
        email: str,
        links: Sequence[tuple[Client, ProxyRelationship]] = (),
        **extra: Any,
    ) -> Portal:
        """A portal account (password `PASSWORD`) linked to `links`, with a live portal session. It has
        proven its email, as one made from a mailed invitation has, unless `email_verified=False` (one
        made by an online sign-up)."""
        organization = org.organization if isinstance(org, Org) else org
        extra.setdefault("email_verified", True)
        account = await PortalAccount.create(
            organization=organization, email=email, password_hash=password_hash(), **extra
        )
        for client, relationship in links:
            await ClientPortalLink.create(
                organization=organization, client=client, account=account, relationship=relationship
            )
        token = new_token(PORTAL_SESSION_PREFIX)
        session = await PortalSession.create(
            organization=organization,
            account=account,
            token_hash=token_hash(token),
            expires_at=datetime.now(UTC) + timedelta(hours=12),
        )
        return Portal(account, token, session)

    async def integration(
        self,
        org: Organization | Org,
        permissions: Sequence[Permission],
        locations: Sequence[Location] = (),
        *,
        name: str = "Partner",
        all_locations: bool = False,
        expires_at: datetime | None = None,
    ) -> Partner:
        """An integration holding `permissions` at `locations` (or everywhere), with one live token."""
        organization = org.organization if isinstance(org, Org) else org
        integration = await Integration.create(
            organization=organization,
            name=name,
            permissions=[p.value for p in permissions],
            all_locations=all_locations,
        )
        for location in locations:
            await IntegrationLocation.create(organization=organization, integration=integration, location=location)
        secret = new_token(API_TOKEN_PREFIX)
        api_token = await ApiToken.create(
            organization=organization,
            integration=integration,
            name=f"{name} token",
            prefix=secret[:12],
            token_hash=token_hash(secret),
            expires_at=expires_at,
        )
        return Partner(integration, secret, api_token)


async def staff_with(
    factory: Factory, org: Org, permissions: list[Permission], locations: list[Location], **extra: Any
) -> Staff:
    """A user at `locations` holding `permissions` through one unrestricted group."""
    group = await factory.group(org.organization, permissions)
    return await factory.user(org.organization, locations=locations, groups=[group], **extra)


async def make_provider(
    user: User,
    display_name: str | None = None,
    *,
    provincial: str | None = None,
    group: str | None = None,
    **extra: Any,
) -> Provider:
    """The provider profile of a staff user (what createUser's billing step makes), "Dr <first>
    <last>" unless named; `provincial` and `group` are its billing numbers. Idempotent: a user who
    already has one gets it back unchanged."""
    existing = await Provider.filter(user_id=user.id).first()
    if existing is not None:
        return existing
    return await Provider.create(
        organization_id=user.organization_id,
        user=user,
        display_name=display_name or f"Dr {user.first_name} {user.last_name}",
        **{"provincial_billing_number": provincial, "group_billing_number": group, **extra},
    )


async def provider_staff(factory: Factory, org: Org, locations: list[Location], name: str = "Dana Reyes") -> Staff:
    """A PROVIDER-type user with CLIENTS_READ_OWN and a Provider row named `name`."""
    first, last = name.split(" ", 1)
    staff = await staff_with(
        factory, org, [Permission.CLIENTS_READ_OWN], locations, type=UserType.PROVIDER, first_name=first, last_name=last
    )
    await make_provider(staff.user, name)
    return staff


async def make_client(
    org: Organization | Org,
    location: Location,
    first: str,
    last: str,
    *,
    provider: Provider | None = None,
    **extra: Any,
) -> Client:
    """A client at `location` (timezone America/Toronto unless given), optionally with its primary provider."""
    extra.setdefault("timezone", "America/Toronto")
    extra.setdefault("primary_provider", provider)
    return await Client.create(
        organization=org.organization if isinstance(org, Org) else org,
        location=location,
        first_name=first,
        last_name=last,
        **extra,
    )


AUDIT_T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def audit_event(
    org: Org, action: str, minutes: int = 0, *, actor_kind: ActorKind = ActorKind.USER, **fields: Any
) -> AuditEvent:
    """An audit row written straight to the table (as an older writer left it), `minutes` after AUDIT_T0."""
    return await AuditEvent.create(
        organization_id=org.organization.id,
        occurred_at=AUDIT_T0 + timedelta(minutes=minutes),
        actor_kind=actor_kind,
        action=action,
        **fields,
    )


async def queued_mail(organization: Organization, to: str = "someone@example.org") -> OutboxMessage:
    """A password-reset mail waiting in the outbox, queued as the resolvers queue one (its subject and
    bodies rendered from the template), for tests of what delivery and the backlog gauges see."""
    return await outbox.enqueue(
        None,
        template="password_reset",
        to=to,
        organization_id=organization.id,
        values={"first_name": "Ana", "organization": organization.name, "link": "https://x.test", "expires": "soon"},
    )
