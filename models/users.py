"""Staff users, the sites they work at, and their single-use registration/reset tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.enums import AccessStatus, StaffTokenPurpose, UserType
from models.keys import DerivedKeys
from models.relations import organization_fk

if TYPE_CHECKING:
    from models.organization import Location


class User(DerivedKeys, Model):
    DERIVED_KEYS = {"username_key": "username", "last_name_key": "last_name"}

    id = fields.UUIDField(primary_key=True)
    organization = organization_fk("users")
    organization_id: UUID
    username = fields.CharField(max_length=150)
    # Lower-cased username: usernames are unique per organization regardless of case.
    username_key = fields.CharField(max_length=150)
    first_name = fields.CharField(max_length=100)
    last_name = fields.CharField(max_length=100)
    last_name_key = fields.CharField(max_length=100)
    type = fields.CharEnumField(UserType, max_length=16)
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=32, null=True)
    language = fields.CharField(max_length=8, default="en")
    is_admin = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)
    expires_at = fields.DatetimeField(null=True)
    password_hash = fields.CharField(max_length=255, null=True)
    pin_hash = fields.CharField(max_length=255, null=True)
    password_reset_required = fields.BooleanField(default=False)
    access_status = fields.CharEnumField(AccessStatus, max_length=16, default=AccessStatus.NO_ACCESS)
    registration_email_sent_at = fields.DatetimeField(null=True)
    all_locations = fields.BooleanField(default=False)
    version = fields.IntField(default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "users"
        unique_together = (("organization_id", "username_key"),)
        indexes = (("organization_id", "last_name_key", "first_name", "id"),)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class UserLocation(Model):
    """A site a (non all-locations) user works at."""

    id = fields.UUIDField(primary_key=True)
    organization = organization_fk()
    organization_id: UUID
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="site_links", on_delete=fields.CASCADE
    )
    user_id: UUID
    location: fields.ForeignKeyRelation[Location] = fields.ForeignKeyField(
        "models.Location", related_name="user_links", on_delete=fields.RESTRICT
    )
    location_id: UUID

    class Meta:
        table = "user_locations"
        unique_together = (("organization_id", "user_id", "location_id"),)
        indexes = (("organization_id", "location_id"),)


class StaffToken(Model):
    """A registration or password-reset link: single use, stored only as a SHA-256 hash."""

    id = fields.UUIDField(primary_key=True)
    organization = organization_fk()
    organization_id: UUID
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="staff_tokens", on_delete=fields.CASCADE
    )
    user_id: UUID
    purpose = fields.CharEnumField(StaffTokenPurpose, max_length=16)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "staff_tokens"
        indexes = (("organization_id", "user_id"),)
