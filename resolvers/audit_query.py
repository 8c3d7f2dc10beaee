"""Reading the audit trail (DESIGN §7): newest first, keyset-paged, one organization only.

Reading the trail is itself recorded: one `audit.read` event per request (not per row, nor per
aliased field), naming the filter used. The trail is append-only: nothing here updates or deletes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models.audit import AuditEvent
from permissions.catalog import Permission
from permissions.errors import bad_input, forbidden
from resolvers import audit
from resolvers.context import RequestContext

READ_ACTION = "audit.read"
# Set on the request's context once its read has been recorded.
_RECORDED = "_audit_read_recorded"


@dataclass(frozen=True)
class AuditQuery:
    """The `AuditFilter` input as plain values (None: not filtered)."""

    actor_id: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    action: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None


def _uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise bad_input(f"`{name}` is not an id.") from None


def _filters(query: AuditQuery) -> dict[str, Any]:
    """ORM filters for `query`, or a BAD_USER_INPUT for a malformed id or an empty range."""
    filters: dict[str, Any] = {}
    if query.actor_id is not None:
        filters["actor_id"] = _uuid(query.actor_id, "actorId")
    if query.target_id is not None:
        filters["target_id"] = _uuid(query.target_id, "targetId")
    if query.target_type is not None:
        filters["target_type"] = query.target_type
    if query.action is not None:
        action = query.action.strip()
        if not action or action == ".":
            raise bad_input("`action` is an action (user.create) or a prefix ending in a dot (client.).")
        if action.endswith("."):
            filters["action__startswith"] = action
        else:
            filters["action"] = action
    for value, name in ((query.occurred_from, "from"), (query.occurred_to, "to")):
        if value is not None and value.tzinfo is None:
            raise bad_input(f"`{name}` needs a UTC offset.")
    if query.occurred_from is not None and query.occurred_to is not None and query.occurred_from >= query.occurred_to:
        raise bad_input("`from` must be before `to`.")
    if query.occurred_from is not None:
        filters["occurred_at__gte"] = query.occurred_from
    if query.occurred_to is not None:
        filters["occurred_at__lt"] = query.occurred_to
    return filters


def _described(query: AuditQuery) -> dict[str, Any]:
    return {k: v for k, v in vars(query).items() if v is not None}


async def audit_events_query(ctx: RequestContext, query: AuditQuery | None = None) -> QuerySet[AuditEvent]:
    """The organization's trail, filtered (`from` inclusive, `to` exclusive): the schema pages it
    (keyset, newest first), counts it, then calls `record_read`."""
    principal = await ctx.require_principal()
    if not principal.grants.has(Permission.AUDIT_READ):
        raise forbidden("This needs the AUDIT_READ permission.")
    rows = AuditEvent.filter(organization_id=principal.organization.id, **_filters(query or AuditQuery()))
    if ctx.request_id:
        # A read never lists (or counts) itself, whenever its page and count are evaluated.
        rows = rows.filter(
            Q(~Q(action=READ_ACTION), Q(request_id__isnull=True), ~Q(request_id=ctx.request_id), join_type=Q.OR)
        )
    return rows


async def record_read(ctx: RequestContext, query: AuditQuery | None = None) -> None:
    """Record that the trail was read: once per request, however many aliases ask."""
    if getattr(ctx, _RECORDED, False):
        return
    setattr(ctx, _RECORDED, True)
    await audit.record(ctx, READ_ACTION, changes={"filter": [None, _described(query or AuditQuery())]})
