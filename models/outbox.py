"""Mail written in the same transaction as the change that causes it, delivered later by a job."""

from tortoise import fields

from models.base import UUIDModel
from models.enums import OutboxStatus


class OutboxMessage(UUIDModel):
    organization_id = fields.UUIDField(null=True)
    template = fields.CharField(max_length=64)
    to_address = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=300)
    text_body = fields.TextField()
    html_body = fields.TextField()
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    # Set while the bodies hold a link token: when that link expires. Delivery and the purge job clear
    # it with the token, so the purge finds its rows by an index range, never by scanning bodies.
    link_expires_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_messages"
        indexes = (("status", "next_attempt_at"), ("link_expires_at",))
