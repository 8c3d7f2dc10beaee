"""Staff sessions and failed login attempts (the login throttle's memory)."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields

from models.base import UUIDModel
from models.enums import LoginOutcome
from models.relations import organization_fk, user_fk
from models.tokens import BearerSession


class Session(BearerSession):
    """A staff session. The bearer token is never stored, only its SHA-256 hash."""

    organization = organization_fk()
    user = user_fk("sessions")
    user_id: UUID
    last_seen_at = fields.DatetimeField()
    pin_failures = fields.IntField(default=0)

    class Meta:
        table = "sessions"
        indexes = (("organization_id", "user_id", "created_at"),)


class LoginAttempt(UUIDModel):
    """A failed or throttled login, keyed on the username typed (whether or not it exists).

    `ip_locked_until` / `user_locked_until` are set on the failure that reaches a threshold, so the
    throttle lasts its full duration from that moment. Times are Unix seconds: the login's single
    lookup statement compares them as plain numbers on SQLite and PostgreSQL alike.
    """

    organization_id = fields.UUIDField()
    username_key = fields.CharField(max_length=150)
    ip_address = fields.CharField(max_length=45)
    outcome = fields.CharEnumField(LoginOutcome, max_length=16)
    ip_locked_until = fields.BigIntField(null=True)
    user_locked_until = fields.BigIntField(null=True)
    created_at = fields.BigIntField()

    class Meta:
        table = "login_attempts"
        indexes = (("organization_id", "username_key", "created_at"),)
