"""Client portal accounts, proxy access and invitations (article 001): the types only.

They arrive now because `Client.portalLinks` and `Client.invitations` are part of the contract's
Client; until the portal issue adds the tables and mutations, those fields resolve to empty lists.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.users import User

if TYPE_CHECKING:
    from schema.clients import Client


@strawberry.enum
class ProxyRelationship(str, Enum):
    SELF = "SELF"
    PARENT = "PARENT"
    GUARDIAN = "GUARDIAN"
    SPOUSE = "SPOUSE"
    CAREGIVER = "CAREGIVER"
    OTHER = "OTHER"


@strawberry.enum
class InvitationStatus(str, Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


@strawberry.type
class PortalAccount:
    id: strawberry.ID
    email: str
    first_name: str | None
    last_name: str | None
    email_verified: bool
    created_at: datetime
    links: list[ClientPortalLink]


@strawberry.type
class ClientPortalLink:
    client: Annotated[Client, strawberry.lazy("schema.clients")]
    account: PortalAccount
    relationship: ProxyRelationship
    created_at: datetime


@strawberry.type
class ClientInvitation:
    id: strawberry.ID
    client: Annotated[Client, strawberry.lazy("schema.clients")]
    email: str
    relationship: ProxyRelationship
    requires_verification_code: bool
    verification_code: str | None = strawberry.field(description="Staff read it to the invitee over the phone.")
    status: InvitationStatus
    expires_at: datetime
    sent_at: datetime | None
    send_count: int
    accepted_at: datetime | None
    created_by: User | None
