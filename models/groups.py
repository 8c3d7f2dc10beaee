"""Permission groups: a set of permissions, optionally restricted to some locations, and members."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields

from models.base import Aggregate, TenantModel
from models.keys import DerivedKeys
from models.relations import location_fk, organization_fk, permission_group_fk, user_fk


class PermissionGroup(DerivedKeys, Aggregate):
    DERIVED_KEYS = {"name_key": "name"}

    organization = organization_fk("permission_groups")
    name = fields.CharField(max_length=100)
    name_key = fields.CharField(max_length=100)
    description = fields.CharField(max_length=500, null=True)
    # Permission codes, comma-separated: read in the one grants statement without JSON functions.
    permission_codes = fields.TextField(default="")
    all_locations = fields.BooleanField(default=True)

    class Meta:
        table = "permission_groups"
        unique_together = (("organization_id", "name_key"),)

    @property
    def codes(self) -> list[str]:
        return [c for c in self.permission_codes.split(",") if c]


class GroupLocation(TenantModel):
    organization = organization_fk()
    group = permission_group_fk("location_links")
    group_id: UUID
    location = location_fk("group_links")
    location_id: UUID

    class Meta:
        table = "group_locations"
        unique_together = (("organization_id", "group_id", "location_id"),)


class GroupMembership(TenantModel):
    organization = organization_fk()
    group = permission_group_fk("memberships")
    group_id: UUID
    user = user_fk("memberships")
    user_id: UUID

    class Meta:
        table = "group_memberships"
        unique_together = (("organization_id", "group_id", "user_id"),)
        indexes = (("organization_id", "user_id"),)
