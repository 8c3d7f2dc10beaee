"""The tenant (organization) and its locations (sites)."""

from __future__ import annotations

from tortoise import fields

from models.base import Aggregate, PostalAddress, Timestamped
from models.keys import DerivedKeys
from models.relations import organization_fk


class Organization(Timestamped):
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=63, unique=True)
    seat_limit = fields.IntField(null=True)

    class Meta:
        table = "organizations"


class Location(DerivedKeys, PostalAddress, Aggregate):
    DERIVED_KEYS = {"name_key": "name"}

    organization = organization_fk("locations")
    name = fields.CharField(max_length=200)
    # Lower-cased name: names are unique per organization regardless of case.
    name_key = fields.CharField(max_length=200)
    timezone = fields.CharField(max_length=64)
    phone = fields.CharField(max_length=32, null=True)
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "locations"
        unique_together = (("organization_id", "name_key"),)
