"""The tenant (organization) and its locations (sites)."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.keys import DerivedKeys
from models.relations import organization_fk


class Organization(Model):
    id = fields.UUIDField(primary_key=True)
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=63, unique=True)
    seat_limit = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "organizations"


class Location(DerivedKeys, Model):
    DERIVED_KEYS = {"name_key": "name"}

    id = fields.UUIDField(primary_key=True)
    organization = organization_fk("locations")
    organization_id: UUID
    name = fields.CharField(max_length=200)
    # Lower-cased name: names are unique per organization regardless of case.
    name_key = fields.CharField(max_length=200)
    timezone = fields.CharField(max_length=64)
    phone = fields.CharField(max_length=32, null=True)
    address_line1 = fields.CharField(max_length=200, null=True)
    address_line2 = fields.CharField(max_length=200, null=True)
    address_city = fields.CharField(max_length=100, null=True)
    address_province = fields.CharField(max_length=6, null=True)
    address_postal_code = fields.CharField(max_length=16, null=True)
    address_country = fields.CharField(max_length=2, null=True)
    is_active = fields.BooleanField(default=True)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "locations"
        unique_together = (("organization_id", "name_key"),)
