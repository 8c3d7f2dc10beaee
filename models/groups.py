"""Permission groups: a set of permissions, optionally restricted to some locations, and members."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.keys import DerivedKeys
from models.relations import organization_fk

if TYPE_CHECKING:
    from models.organization import Location
    from models.users import User


class PermissionGroup(DerivedKeys, Model):
    DERIVED_KEYS = {"name_key": "name"}

    id = fields.UUIDField(primary_key=True)
    organization = organization_fk("permission_groups")
    organization_id: UUID
    name = fields.CharField(max_length=100)
    name_key = fields.CharField(max_length=100)
    description = fields.CharField(max_length=500, null=True)
    # Permission codes, comma-separated: read in the one grants statement without JSON functions.
    permission_codes = fields.TextField(default="")
    all_locations = fields.BooleanField(default=True)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "permission_groups"
        unique_together = (("organization_id", "name_key"),)

    @property
    def codes(self) -> list[str]:
        return [c for c in self.permission_codes.split(",") if c]


class GroupLocation(Model):
    id = fields.UUIDField(primary_key=True)
    organization = organization_fk()
    organization_id: UUID
    group: fields.ForeignKeyRelation[PermissionGroup] = fields.ForeignKeyField(
        "models.PermissionGroup", related_name="location_links", on_delete=fields.CASCADE
    )
    group_id: UUID
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "models.Location", related_name="group_links", on_delete=fields.RESTRICT
    )
    location_id: UUID

    class Meta:
        table = "group_locations"
        unique_together = (("organization_id", "group_id", "location_id"),)


class GroupMembership(Model):
    id = fields.UUIDField(primary_key=True)
    organization = organization_fk()
    organization_id: UUID
    group: fields.ForeignKeyRelation[PermissionGroup] = fields.ForeignKeyField(
        "models.PermissionGroup", related_name="memberships", on_delete=fields.CASCADE
    )
    group_id: UUID
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    user_id: UUID

    class Meta:
        table = "group_memberships"
        unique_together = (("organization_id", "group_id", "user_id"),)
        indexes = (("organization_id", "user_id"),)
