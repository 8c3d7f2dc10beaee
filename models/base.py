"""Abstract models for the columns the data rules give many tables (docs/architecture.md, "Data").

Each rule is declared once, so no table can drift from it: a UUID primary key everywhere; the two
timestamps on every row that is changed in place; on the mutable aggregates a `version` for
optimistic concurrency besides; on a client and a location the same postal address columns.
Abstract: they add no table and no migration.

Only plain columns are inherited. Tortoise hands one inherited field object to every model that
inherits it, which suits a column but not a relation (a relation records its model and its reverse
name), so each model declares its foreign keys itself, through the helpers in `models.relations`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.organization import Organization


class UUIDModel(Model):
    """Keyed by a UUID, as every table is: declared once, so no table can take another kind of key."""

    id = fields.UUIDField(primary_key=True)

    class Meta:
        abstract = True


class TenantModel(UUIDModel):
    """A row of one organization's data. The subclass declares `organization = organization_fk(...)`
    (with its own reverse name); this types that relation and its column for code over any tenant
    model."""

    organization: fields.ForeignKeyRelation[Organization]
    organization_id: UUID

    class Meta:
        abstract = True


class Timestamped(UUIDModel):
    """A row changed in place (an organization, a portal account, every aggregate): when it was made
    and when it was last changed, both set by the ORM on save."""

    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        abstract = True


class Aggregate(Timestamped, TenantModel):
    """A mutable aggregate of a tenant: every update bumps `version`, and a mutation given a stale
    `expectedVersion` answers CONFLICT (optimistic concurrency)."""

    version = fields.IntField(default=1)

    class Meta:
        abstract = True


class PostalAddress(Model):
    """A postal address: the same columns and sizes wherever one is kept (a location, a client), so an
    address that fits one fits the other."""

    address_line1 = fields.CharField(max_length=200, null=True)
    address_line2 = fields.CharField(max_length=200, null=True)
    address_city = fields.CharField(max_length=100, null=True)
    address_province = fields.CharField(max_length=6, null=True)
    address_postal_code = fields.CharField(max_length=16, null=True)
    address_country = fields.CharField(max_length=2, null=True)

    class Meta:
        abstract = True
