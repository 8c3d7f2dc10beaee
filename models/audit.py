"""The append-only audit trail: mutations, security events and reads of patient data."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from models.base import UUIDModel
from models.enums import ActorKind


class AuditEvent(UUIDModel):
    organization_id = fields.UUIDField(null=True)
    occurred_at = fields.DatetimeField()
    actor_kind = fields.CharEnumField(ActorKind, max_length=16)
    actor_id = fields.UUIDField(null=True)
    actor_name = fields.CharField(max_length=200, null=True)
    action = fields.CharField(max_length=64)
    target_type = fields.CharField(max_length=32, null=True)
    target_id = fields.UUIDField(null=True)
    location_id = fields.UUIDField(null=True)
    changes: Any = fields.JSONField(null=True)
    ip_address = fields.CharField(max_length=45, null=True)
    request_id = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "audit_events"
        indexes = (
            ("organization_id", "occurred_at", "id"),
            ("organization_id", "target_id"),
            ("organization_id", "actor_id"),
            ("organization_id", "action"),
        )
