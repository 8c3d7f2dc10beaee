"""Reading the audit trail (docs/architecture.md "Audit and PHI access"): newest first, keyset-paged, one organization
only.

Reading the trail is itself recorded: one `audit.read` event per request (not per row, nor per
aliased field), naming the filter used. The trail is append-only: nothing here updates or deletes.

The trail is no side door to patient data. An event about a client (target type `AuditTarget.CLIENT`, any
case) shows every AUDIT_READ holder which fields changed, but their `[before, after]` values only
when the reader may read that client now (`permissions.scoping.can_see_client` on the client's
current location and primary provider: CLIENTS_READ there, or CLIENTS_READ_OWN as its primary
provider); coverage fields (`COVERAGE_READ_FIELDS`) also need CLIENTS_COVERAGE_READ at that
location. A value withheld becomes `[REDACTED, REDACTED]`, so `changes` keeps its shape. A client
that cannot be found in the reader's organization shows no values (fail closed). Values shown are
a PHI read: they are noted on the request (`ctx.note_client_read`, coverage flagged) for its one
`client.read` access event. That access event itself lists only client ids (like `targetId`), so
it is shown as is.

A portal account is no side door either: its name (or its email, when it gave none) is the
patient's, or the name of someone acting for patients, typed by that person for the client a sign-up
creates. An event acted by a portal account shows `actorName`, and an event about one (a failed
portal login, naming its email) its values, only to a reader who may read one of the clients the
account is linked to now (`client_q`); to others they are `REDACTED` (the ids stay, like `targetId`).

Billing numbers are no side door either: an event about a provider (target type
`AuditTarget.PROVIDER`, any case) shows its billing number fields (`BILLING_FIELDS`) only to a
reader holding BILLING_READ at one of the provider's current sites, the rule of `Provider.billing`
(`resolvers.providers.Sites.held_anywhere`); a provider not found in the reader's organization
shows none. Its other fields show as they are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from models.audit import AuditEvent
from models.clients import Client
from models.enums import ActorKind, AuditTarget
from models.portal import ClientPortalLink
from permissions.catalog import Permission
from permissions.errors import bad_input, forbidden
from permissions.principal import Principal
from permissions.scoping import can_see_client, client_q
from resolvers import audit
from resolvers.client_input import COVERAGE_READ_FIELDS
from resolvers.context import RequestContext
from resolvers.inputs import parse_uuid
from resolvers.providers import BILLING_FIELDS, Sites

READ_ACTION = "audit.read"
# Set on the request's context once its read has been recorded.
_RECORDED = "_audit_read_recorded"
# Stands for a value the reader may not see (both sides of `[before, after]`).
REDACTED = "[redacted]"
_COVERAGE = frozenset(COVERAGE_READ_FIELDS)


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
    """The id, or BAD_USER_INPUT naming the argument (a filter, unlike a lookup, says so)."""
    if (parsed := parse_uuid(value)) is None:
        raise bad_input(f"`{name}` is not an id.")
    return parsed


def target_type(text: str) -> AuditTarget:
    """The filter's target type, any case ("client" and "Client" alike), or BAD_USER_INPUT."""
    try:
        return AuditTarget(text)
    except ValueError:
        known = ", ".join(t.value for t in AuditTarget)
        raise bad_input(f"`targetType` is one of {known}.") from None


def target_name(stored: str | None) -> str | None:
    """A row's target type as the API spells it: rows written before `AuditTarget` may say "client"."""
    if stored is None:
        return None
    try:
        return AuditTarget(stored).value
    except ValueError:
        return stored


def _filters(query: AuditQuery) -> dict[str, Any]:
    """ORM filters for `query`, or a BAD_USER_INPUT for a malformed id or an empty range."""
    filters: dict[str, Any] = {}
    if query.actor_id is not None:
        filters["actor_id"] = _uuid(query.actor_id, "actorId")
    if query.target_id is not None:
        filters["target_id"] = _uuid(query.target_id, "targetId")
    if query.target_type is not None:
        # Case-insensitive, so the rows written as "client" before AuditTarget are found too.
        filters["target_type__iexact"] = target_type(query.target_type).value
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


# --------------------------------------------------------------------------- client values


def about_client(event: AuditEvent) -> bool:
    """Whether `event`'s values may carry a client's data, so are shown only as the rule says.

    Client events are written with target type `AuditTarget.CLIENT`; older rows say "client", read
    the same, so an older or hand-written row cannot slip past. The PHI access log's own event
    carries only client ids.
    """
    return (
        bool(event.changes)
        and target_name(event.target_type) == AuditTarget.CLIENT.value
        and event.action != audit.CLIENT_READ_ACTION
    )


def _readable(principal: Principal, client: Any) -> tuple[bool, bool]:
    """(may read the client, may read its coverage), for a client row loaded with its provider."""
    if client is None or str(client.organization_id) != str(principal.organization_id):
        return False, False
    location = str(client.location_id)
    provider = client.primary_provider
    provider_user = str(provider.user_id) if provider is not None else None
    if not can_see_client(principal, location, provider_user, client_id=str(client.id)):
        return False, False
    return True, principal.grants.has(Permission.CLIENTS_COVERAGE_READ, location)


def client_changes(ctx: RequestContext, principal: Principal, event: AuditEvent, client: Any) -> dict[str, Any]:
    """`event.changes` as this reader may see them (module docstring), the values shown noted as a
    PHI read of the client. `client` is the event's client row (with its primary provider), or None."""
    readable, coverage = _readable(principal, client)
    shown: dict[str, Any] = {}
    shown_any = shown_coverage = False
    for name, value in (event.changes or {}).items():
        allowed = coverage if name in _COVERAGE else readable
        shown[name] = value if allowed else [REDACTED, REDACTED]
        shown_any = shown_any or allowed
        shown_coverage = shown_coverage or (allowed and name in _COVERAGE)
    if shown_any:
        ctx.note_client_read(str(client.id), coverage=shown_coverage)
    return shown


# --------------------------------------------------------------------------- provider billing values


def about_provider_billing(event: AuditEvent) -> bool:
    """Whether `event` is about a provider (any case of the target type) and names a billing number."""
    return (
        bool(event.changes)
        and target_name(event.target_type) == AuditTarget.PROVIDER.value
        and any(name in BILLING_FIELDS for name in event.changes)
    )


def provider_changes(principal: Principal, event: AuditEvent, provider: Any, sites: Sites | None) -> dict[str, Any]:
    """`event.changes` with the billing numbers shown only as `Provider.billing` would show them
    (module docstring). `provider` is the event's provider row with its `sites`, or None."""
    readable = (
        provider is not None
        and sites is not None
        and str(provider.organization_id) == str(principal.organization_id)
        and sites.billing_readable(principal.grants)
    )
    return {
        name: value if readable or name not in BILLING_FIELDS else [REDACTED, REDACTED]
        for name, value in (event.changes or {}).items()
    }


# --------------------------------------------------------------------------- portal account actors


def acted_by_portal_account(event: AuditEvent) -> bool:
    """Whether `event` names a portal account as its actor (whose name is shown as the rule says)."""
    return event.actor_kind == ActorKind.PORTAL_ACCOUNT and event.actor_name is not None


async def portal_accounts_named(principal: Principal, account_ids: list[str]) -> list[bool]:
    """For each portal account id: whether `principal` may read a client linked to it (`client_q`),
    so may read the account's name on the trail (module docstring). One statement."""
    visible = Subquery(Client.filter(client_q(principal)).values("id"))
    rows = await ClientPortalLink.filter(
        organization_id=principal.organization.id, account_id__in=account_ids, client_id__in=visible
    ).values_list("account_id", flat=True)
    named = {str(row) for row in rows}
    return [str(account_id) in named for account_id in account_ids]


def actor_name(event: AuditEvent, named: bool) -> str | None:
    """`event.actor_name` as this reader may see it: a portal account's only when `named`."""
    if acted_by_portal_account(event) and not named:
        return REDACTED
    return event.actor_name


def about_portal_account(event: AuditEvent) -> bool:
    """Whether `event` is about a portal account (any case of the target type) and has values."""
    return bool(event.changes) and target_name(event.target_type) == AuditTarget.PORTAL_ACCOUNT.value


def portal_account_changes(event: AuditEvent, named: bool) -> dict[str, Any]:
    """`event.changes` of an event about a portal account: its values only when `named`."""
    return {name: value if named else [REDACTED, REDACTED] for name, value in (event.changes or {}).items()}
