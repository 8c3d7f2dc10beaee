"""Staff users, the sites they work at, and their single-use registration/reset tokens."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields

from models.base import Aggregate, TenantModel
from models.enums import AccessStatus, StaffTokenPurpose, UserType
from models.keys import DerivedKeys
from models.relations import location_fk, organization_fk, user_fk
from models.tokens import HashedToken


class User(DerivedKeys, Aggregate):
    DERIVED_KEYS = {"username_key": "username", "last_name_key": "last_name"}

    organization = organization_fk("users")
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

    class Meta:
        table = "users"
        unique_together = (("organization_id", "username_key"),)
        indexes = (("organization_id", "last_name_key", "first_name", "id"),)

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class UserLocation(TenantModel):
    """A site a (non all-locations) user works at."""

    organization = organization_fk()
    user = user_fk("site_links")
    user_id: UUID
    location = location_fk("user_links")
    location_id: UUID

    class Meta:
        table = "user_locations"
        unique_together = (("organization_id", "user_id", "location_id"),)
        indexes = (("organization_id", "location_id"),)


class StaffToken(HashedToken):
    """A registration or password-reset link: single use, stored only as a SHA-256 hash."""

    organization = organization_fk()
    user = user_fk("staff_tokens")
    user_id: UUID
    purpose = fields.CharEnumField(StaffTokenPurpose, max_length=16)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "staff_tokens"
        indexes = (("organization_id", "user_id"),)
