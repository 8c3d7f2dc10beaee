"""The columns of a row that stands for a bearer secret (docs/architecture.md, "Authentication"):
staff and portal sessions, registration and reset links, client invitations, API tokens.

The secret itself is handed out once and never stored: the row keeps its SHA-256 hex digest, unique,
so the one lookup by hash finds at most one row. Declared once, so every such table keeps the digest
at the same size and says in the same columns when the secret was made and when it was revoked.
"""

from __future__ import annotations

from tortoise import fields

from models.base import TenantModel


class HashedToken(TenantModel):
    """A tenant row found by the hash of a secret; a revoked one opens nothing. Each model declares
    its `expires_at`: a session or a link always expires, an API token may never."""

    token_hash = fields.CharField(max_length=64, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        abstract = True


class BearerSession(HashedToken):
    """A signed-in session, staff or portal: where it was opened from (shown to its owner) and why
    it was revoked (logout, PIN failures, a password change, ...)."""

    expires_at = fields.DatetimeField()
    ip_address = fields.CharField(max_length=45, null=True)
    user_agent = fields.CharField(max_length=300, null=True)
    revoked_reason = fields.CharField(max_length=32, null=True)

    class Meta:
        abstract = True
