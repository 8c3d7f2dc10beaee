"""Writing the audit trail (docs/architecture.md "Audit and PHI access"). Secrets are never recorded; PHI is redacted
here."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any

from tortoise.models import Model

from models import sql
from models.audit import AuditEvent
from models.clients import Client
from models.enums import ActorKind, AuditTarget
from models.groups import PermissionGroup
from models.integrations import Integration
from models.organization import Location
from models.portal import ClientInvitation, ClientPortalLink, PortalAccount, PortalSession
from models.providers import Provider
from models.sessions import Session
from models.users import User
from resolvers.context import RequestContext

# Never written to the trail, whatever a caller passes.
SECRET_FIELDS = frozenset({"password", "password_hash", "pin", "pin_hash", "token", "token_hash", "verification_code"})
# Shown by their last 4 characters only.
LAST4_FIELDS = frozenset({"health_card_number"})
# The PHI access log's event (schema/phi.py): its values are client ids, never client data.
CLIENT_READ_ACTION = "client.read"
# What an event is about when only its id is at hand: `record(..., target_type=audit.Target.CLIENT)`.
Target = AuditTarget
# What an event is about, by the model of the row it is about (`record(..., about=client)`): the
# type is never restated beside the row, so it cannot name another table than the id's.
TARGETS: dict[type[Model], AuditTarget] = {
    Client: AuditTarget.CLIENT,
    ClientInvitation: AuditTarget.CLIENT_INVITATION,
    ClientPortalLink: AuditTarget.CLIENT_PORTAL_LINK,
    Integration: AuditTarget.INTEGRATION,
    Location: AuditTarget.LOCATION,
    PermissionGroup: AuditTarget.PERMISSION_GROUP,
    PortalAccount: AuditTarget.PORTAL_ACCOUNT,
    Provider: AuditTarget.PROVIDER,
    PortalSession: AuditTarget.PORTAL_SESSION,
    Session: AuditTarget.SESSION,
    User: AuditTarget.USER,
}


def filed_under(row: Model) -> Any:
    """The location an event about `row` is filed under when the caller names none: a client's
    current location, a location's own id; None for a row of no one location."""
    if isinstance(row, Client):
        return row.location_id
    if isinstance(row, Location):
        return row.id
    return None


# Who acted, when it is not the request's principal yet (a login): the person a row stands for.
ACTORS: dict[type[Model], ActorKind] = {User: ActorKind.USER, PortalAccount: ActorKind.PORTAL_ACCOUNT}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _redact(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in LAST4_FIELDS:
        text = str(value)
        return "…" + text[-4:] if len(text) > 4 else "…"
    return _plain(value)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for every field whose value changed, secrets left out."""
    changes: dict[str, list[Any]] = {}
    for name in after:
        if name in SECRET_FIELDS:
            continue
        old, new = before.get(name), after[name]
        if _plain(old) != _plain(new):
            changes[name] = [_redact(name, old), _redact(name, new)]
    return changes


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


async def record(
    ctx: RequestContext,
    action: str,
    *,
    about: Model | None = None,
    target_type: AuditTarget | None = None,
    target_id: Any = None,
    location_id: Any = None,
    changes: Mapping[str, Any] | None = None,
    organization_id: Any = None,
    by: User | PortalAccount | None = None,
    actor_kind: ActorKind | None = None,
    actor_id: Any = None,
    actor_name: str | None = None,
) -> None:
    """Append one event. It is `about` a row (None: no target), filed under that row's location
    (`filed_under`) unless `location_id` says otherwise, or `target_type` and `target_id` when only
    an id is at hand. The actor is `by` (a user or portal account acting before it is
    the principal), else `actor_kind` and its id and name, else the request's principal (or
    ANONYMOUS)."""
    if about is not None:
        target_type, target_id = TARGETS[type(about)], about.pk
        location_id = location_id if location_id is not None else filed_under(about)
    if by is not None:
        actor_kind, actor_id, actor_name = ACTORS[type(by)], by.id, by.display_name
    principal = ctx._principal if ctx._resolved else None
    if principal is not None:
        organization_id = organization_id or principal.organization_id
        if actor_kind is None:
            actor_kind = ActorKind(principal.kind.value)
            actor_id = actor_id or principal.actor_id
            actor_name = actor_name or principal.actor_name
    safe = {k: v for k, v in (changes or {}).items() if k not in SECRET_FIELDS}
    await sql.insert(
        AuditEvent,
        {
            "organization_id": organization_id,
            "occurred_at": ctx.now(),
            "actor_kind": actor_kind or ActorKind.ANONYMOUS,
            "actor_id": actor_id,
            "actor_name": actor_name,
            "action": action,
            "target_type": AuditTarget(target_type).value if target_type is not None else None,
            "target_id": target_id,
            "location_id": location_id,
            "changes": _plain(safe) if safe else None,
            "ip_address": ctx.ip_address,
            "request_id": ctx.request_id,
        },
    )


async def record_system(
    ctx: RequestContext, action: str, *, about: Model, by: str, changes: Mapping[str, Any] | None = None
) -> None:
    """An event whose actor is the system, not a principal: a job or the operator's command line,
    named by `by` (e.g. "job:provider_deactivations"), filed under `about`'s organization."""
    await record(
        ctx,
        action,
        about=about,
        organization_id=getattr(about, "organization_id", None),
        actor_kind=ActorKind.SYSTEM,
        actor_name=by,
        changes=changes,
    )
