"""The client portal (article 001): portal accounts, their sessions, the links that give an account
proxy access to a client, and the invitations that create those links."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields

from models.base import TenantModel, Timestamped
from models.enums import ProxyRelationship
from models.keys import DerivedKeys
from models.relations import organization_fk
from models.tokens import BearerSession, HashedToken

if TYPE_CHECKING:
    from models.clients import Client
    from models.users import User


def client_fk(related_name: str) -> fields.ForeignKeyRelation[Client]:
    """A portal row hangs off its client: removed with it (clients are archived, never deleted)."""
    return fields.ForeignKeyField("models.Client", related_name=related_name, on_delete=fields.CASCADE)


def account_fk(related_name: str) -> fields.ForeignKeyRelation[PortalAccount]:
    return fields.ForeignKeyField("models.PortalAccount", related_name=related_name, on_delete=fields.CASCADE)


class PortalAccount(DerivedKeys, Timestamped, TenantModel):
    """A person who logs in to the client portal of one organization: a client, or someone acting
    for clients (a parent for a child). Unique per organization by its email's key."""

    DERIVED_KEYS = {"email_key": "email"}

    organization = organization_fk()
    email = fields.CharField(max_length=254)
    email_key = fields.CharField(max_length=254)
    password_hash = fields.CharField(max_length=200)
    first_name = fields.CharField(max_length=100, null=True)
    last_name = fields.CharField(max_length=100, null=True)
    email_verified = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "portal_accounts"
        unique_together = (("organization_id", "email_key"),)

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or self.email


class PortalSession(BearerSession):
    """A portal session. The bearer token (`tsp_...`) is never stored, only its SHA-256 hash."""

    organization = organization_fk()
    account = account_fk("sessions")
    account_id: UUID

    class Meta:
        table = "portal_sessions"
        indexes = (("organization_id", "account_id"),)


class ClientPortalLink(TenantModel):
    """Proxy access: this account may act for this client (itself with SELF)."""

    organization = organization_fk()
    client = client_fk("portal_links")
    client_id: UUID
    account = account_fk("links")
    account_id: UUID
    relationship = fields.CharEnumField(ProxyRelationship, max_length=16)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "client_portal_links"
        unique_together = (("organization_id", "client_id", "account_id"),)
        indexes = (("organization_id", "account_id"),)


class ClientInvitation(DerivedKeys, HashedToken):
    """An invitation to link a portal account to a client: its link token (`tsl_...`) is stored
    only as a hash and opens once; its status is computed from the clock (`status_of`), not kept."""

    DERIVED_KEYS = {"email_key": "email"}

    organization = organization_fk()
    client = client_fk("invitations")
    client_id: UUID
    email = fields.CharField(max_length=254)
    email_key = fields.CharField(max_length=254)
    relationship = fields.CharEnumField(ProxyRelationship, max_length=16)
    # Shown to staff, who read it to the invitee over the phone; never mailed.
    verification_code = fields.CharField(max_length=6, null=True)
    code_failures = fields.IntField(default=0)
    expires_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)
    send_count = fields.IntField(default=0)
    # Whether staff were shown the current link ("get link"): then accepting it proves nothing
    # about the mailbox, so an account it creates is not email-verified.
    link_shown = fields.BooleanField(default=False)
    accepted_at = fields.DatetimeField(null=True)
    accepted_by: fields.ForeignKeyNullableRelation[PortalAccount] = fields.ForeignKeyField(
        "models.PortalAccount", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    accepted_by_id: UUID | None
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_id: UUID | None

    class Meta:
        table = "client_invitations"
        indexes = (("organization_id", "client_id", "created_at"), ("organization_id", "created_at"))
