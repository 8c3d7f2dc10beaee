"""Clients (patients): the full profile of article 002, with coverage kept on the same row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from tortoise import fields

from models.base import Aggregate, PostalAddress
from models.enums import ClientSource, ClientStatus, HealthCardCheck
from models.keys import DerivedKeys
from models.relations import location_fk, organization_fk

if TYPE_CHECKING:
    from models.providers import Provider


class Client(DerivedKeys, PostalAddress, Aggregate):
    DERIVED_KEYS = {
        "first_name_key": "first_name",
        "last_name_key": "last_name",
        "preferred_name_key": "preferred_name",
        "email_key": "email",
    }

    organization = organization_fk("clients")
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    preferred_name = fields.CharField(max_length=100, null=True)
    # Lower-cased copies for indexed, case-insensitive prefix search and a stable sort order.
    first_name_key = fields.CharField(max_length=100)
    last_name_key = fields.CharField(max_length=100)
    preferred_name_key = fields.CharField(max_length=100, null=True)
    email_key = fields.CharField(max_length=254, null=True)
    salutation = fields.CharField(max_length=20, null=True)
    pronouns = fields.CharField(max_length=40, null=True)
    sex_at_birth = fields.CharField(max_length=40, null=True)
    date_of_birth = fields.DateField(null=True)
    preferred_language = fields.CharField(max_length=35, default="en")
    timezone = fields.CharField(max_length=64)
    email = fields.CharField(max_length=254, null=True)
    email_consent = fields.BooleanField(default=True)
    mobile = fields.CharField(max_length=20, null=True)
    mobile_is_primary = fields.BooleanField(default=True)
    sms_consent = fields.BooleanField(default=False)
    voice_consent = fields.BooleanField(default=False)
    phones: Any = fields.JSONField(default=list)
    emergency_contacts: Any = fields.JSONField(default=list)
    referring_provider_name = fields.CharField(max_length=200, null=True)
    is_qualified = fields.BooleanField(null=True)
    veteran_id = fields.CharField(max_length=40, null=True)
    location = location_fk("clients")
    location_id: UUID
    primary_provider: fields.ForeignKeyNullableRelation[Provider] = fields.ForeignKeyField(
        "models.Provider", related_name="clients", null=True, on_delete=fields.RESTRICT
    )
    primary_provider_id: UUID | None
    alert = fields.TextField(null=True)
    health_card_province = fields.CharField(max_length=6, null=True)
    health_card_number = fields.CharField(max_length=20, null=True)
    health_card_version = fields.CharField(max_length=4, null=True)
    health_card_check = fields.CharEnumField(HealthCardCheck, max_length=24, default=HealthCardCheck.NOT_CHECKED)
    fee_program = fields.CharField(max_length=60, null=True)
    fee_program_number = fields.CharField(max_length=60, null=True)
    billing_authorization_number = fields.CharField(max_length=60, null=True)
    case_number = fields.CharField(max_length=60, null=True)
    sessions_authorized = fields.IntField(null=True)
    billing_notes = fields.TextField(null=True)
    status = fields.CharEnumField(ClientStatus, max_length=16, default=ClientStatus.ACTIVE)
    source = fields.CharEnumField(ClientSource, max_length=24, default=ClientSource.STAFF)
    merged_into_id = fields.UUIDField(null=True)
    merged_at = fields.DatetimeField(null=True)

    class Meta:
        table = "clients"
        indexes = (
            ("organization_id", "location_id", "status", "last_name_key", "first_name_key", "id"),
            ("organization_id", "status", "last_name_key", "first_name_key", "id"),
            ("organization_id", "primary_provider_id", "status"),
            ("organization_id", "first_name_key"),
            ("organization_id", "email_key"),
            ("organization_id", "mobile"),
            ("organization_id", "date_of_birth"),
            ("organization_id", "health_card_number"),
        )
