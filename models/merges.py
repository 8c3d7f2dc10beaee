"""Client merges (article 001): an online registration folded into the existing profile, kept so the
merge can be undone within 30 days and its lineage read."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from models.base import TenantModel
from models.relations import organization_fk


class ClientMerge(TenantModel):
    """One merge of `source` into `target`, with what it changed so an unmerge can put it back:
    the source's status before, the target's fields filled from the source (field -> value), the
    portal links moved (or dropped, when the account was already linked to the target) and the
    invitations moved, with the link each had. `undone_at` is set by the unmerge."""

    organization = organization_fk()
    source_id = fields.UUIDField()
    target_id = fields.UUIDField()
    source_status = fields.CharField(max_length=16)
    filled: Any = fields.JSONField(default=dict)
    moved_links: Any = fields.JSONField(default=list)
    dropped_links: Any = fields.JSONField(default=list)
    moved_invitations: Any = fields.JSONField(default=list)
    # Each moved invitation's link token hash when it moved (id -> hash): a different one at the undo
    # is a link sent or shown at the survivor meanwhile. Null on merges recorded before it was kept.
    invitation_tokens: Any = fields.JSONField(null=True)
    merged_at = fields.DatetimeField()
    merged_by_id = fields.UUIDField(null=True)
    undone_at = fields.DatetimeField(null=True)

    class Meta:
        table = "client_merges"
        indexes = (("organization_id", "source_id", "merged_at"), ("organization_id", "target_id"))
