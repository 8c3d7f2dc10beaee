"""Partner integrations and their API tokens (docs/architecture.md "Principals and grants"): an
integration holds its own permissions at its own locations, never more than whoever set them; its
tokens (`tsk_...`) are stored only as SHA-256 hashes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from tortoise import fields

from models.base import Aggregate, TenantModel
from models.relations import location_fk, organization_fk
from models.tokens import HashedToken

if TYPE_CHECKING:
    from models.users import User


def integration_fk(related_name: str) -> fields.ForeignKeyRelation[Integration]:
    return fields.ForeignKeyField("models.Integration", related_name=related_name, on_delete=fields.CASCADE)


class Integration(Aggregate):
    organization = organization_fk("integrations")
    name = fields.CharField(max_length=200)
    description = fields.TextField(null=True)
    # Permission names (models keep plain values; permissions/catalog.py is the policy's).
    permissions: Any = fields.JSONField(default=list)
    all_locations = fields.BooleanField(default=False)
    is_active = fields.BooleanField(default=True)
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_by_id: UUID | None

    class Meta:
        table = "integrations"
        indexes = (("organization_id", "created_at"),)


class IntegrationLocation(TenantModel):
    """A location an integration (not an all-locations one) works at."""

    organization = organization_fk()
    integration = integration_fk("location_links")
    integration_id: UUID
    location = location_fk("integration_links")
    location_id: UUID

    class Meta:
        table = "integration_locations"
        unique_together = (("organization_id", "integration_id", "location_id"),)


class ApiToken(HashedToken):
    organization = organization_fk()
    integration = integration_fk("tokens")
    integration_id: UUID
    name = fields.CharField(max_length=200)
    prefix = fields.CharField(max_length=16)
    # Null: the token works until it is revoked.
    expires_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    created_by_id = fields.UUIDField(null=True)

    class Meta:
        table = "api_tokens"
        indexes = (("organization_id", "integration_id"),)


class TokenBucket(TenantModel):
    """An integration's cost budget (all its tokens share it) when no Redis is configured: the level
    and when it was last computed (Unix seconds), updated under a row lock (PostgreSQL) so workers
    never double-spend it."""

    organization = organization_fk()
    integration_id = fields.UUIDField(unique=True)
    level = fields.FloatField()
    updated_at = fields.FloatField()

    class Meta:
        table = "token_buckets"
