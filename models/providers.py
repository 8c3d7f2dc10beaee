"""Provider (clinician) profiles: one per staff user who bills or treats (Avaros step 4, article 003)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields

from models.base import Aggregate
from models.enums import BillingRole, ProviderStatus
from models.keys import DerivedKeys
from models.relations import organization_fk

if TYPE_CHECKING:
    from models.users import User


class Provider(DerivedKeys, Aggregate):
    DERIVED_KEYS = {"display_name_key": "display_name"}

    organization = organization_fk("providers")
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="provider", on_delete=fields.RESTRICT
    )
    user_id: UUID
    display_name = fields.CharField(max_length=200)
    display_name_key = fields.CharField(max_length=200)
    specialty = fields.CharField(max_length=100, null=True)
    billing_role = fields.CharEnumField(BillingRole, max_length=20, default=BillingRole.BILLING_PROVIDER)
    provincial_billing_number = fields.CharField(max_length=32, null=True)
    group_billing_number = fields.CharField(max_length=32, null=True)
    profile_image_url = fields.CharField(max_length=500, null=True)
    messaging_enabled = fields.BooleanField(default=True)
    default_rtm_status = fields.BooleanField(default=False)
    status = fields.CharEnumField(ProviderStatus, max_length=24, default=ProviderStatus.ACTIVE)
    deactivate_at = fields.DatetimeField(null=True)
    deactivated_at = fields.DatetimeField(null=True)
    reassign_to_id = fields.UUIDField(null=True)

    class Meta:
        table = "providers"
        # One provincial billing number per provider in an organization (NULLs may repeat): the
        # unique index also serves the lookup by number (`users(filter: {providerNumber})`).
        unique_together = (("organization_id", "provincial_billing_number"),)
        indexes = (
            ("organization_id", "display_name_key", "id"),
            ("status", "deactivate_at"),
        )
