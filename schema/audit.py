"""The audit trail query: AuditEvent, its connection and filter, and the `auditEvents` root field."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from models.enums import ActorKind
from permissions.catalog import Permission
from permissions.classes import requires
from permissions.scoping import can_see_location
from resolvers import audit_query
from schema import client_relations, provider_relations, relations
from schema.info import Info
from schema.organization import Location
from schema.pagination import Connection, SortKey, check_page, datetime_key, keyset_page
from schema.providers import provider_sites

# Newest first; the id breaks ties between events of the same microsecond.
KEYS = (datetime_key("occurred_at", descending=True), SortKey("id", descending=True))


def _target_type(root: Any) -> str | None:
    """One spelling for old rows too ("client" reads as "Client")."""
    return audit_query.target_name(root.target_type)


async def _provider_changes(event: Any, info: Info) -> Any:
    """A provider event's changes, its billing numbers as the reader may see them (resolvers/audit_query.py);
    the provider and its sites come through the request's loaders, as `Provider.billing` reads them."""
    principal = await info.context.require_principal()
    provider = sites = None
    if event.target_id is not None:
        provider = await info.context.loaders.of(provider_relations.providers_by_id).load(str(event.target_id))
    if provider is not None:
        sites = await provider_sites(info, provider)
    return audit_query.provider_changes(principal, event, provider, sites)


async def _names_portal_account(info: Info, account_id: Any) -> bool:
    """Whether the reader may read a client the portal account is linked to (resolvers/audit_query.py),
    through one per-viewer loader: one statement a page."""
    if account_id is None:
        return False
    principal = await info.context.require_principal()
    loader = info.context.loaders.of(provider_relations.per_viewer(audit_query.portal_accounts_named, principal))
    return bool(await loader.load(str(account_id)))


async def _actor_name(root: Any, info: Info) -> str | None:
    """A portal account's name only to a reader who may read one of its clients (resolvers/audit_query.py)."""
    if not audit_query.acted_by_portal_account(root):
        return root.actor_name  # type: ignore[no-any-return]
    return audit_query.actor_name(root, await _names_portal_account(info, root.actor_id))


@strawberry.type
class AuditEvent:
    id: strawberry.ID
    occurred_at: datetime
    actor_kind: ActorKind
    actor_id: strawberry.ID | None
    actor_name: str | None = strawberry.field(
        resolver=_actor_name,
        description="A portal account's name shows only to a reader who may read one of its clients "
        '(else "[redacted]").',
    )
    action: str = strawberry.field(description="e.g. user.create, client.update, client.coverage.read")
    target_type: str | None = strawberry.field(resolver=_target_type)
    target_id: strawberry.ID | None
    ip_address: str | None
    request_id: str | None

    @strawberry.field(description="{field: [before, after]}; secrets never, PHI redacted.")
    async def changes(self: Any, info: Info) -> JSON | None:
        # A client's values only to a reader who may read it (resolvers/audit_query.py); its row
        # comes through the request's loader, so a page costs one statement, not one per event.
        if audit_query.about_provider_billing(self):
            return await _provider_changes(self, info)
        if audit_query.about_portal_account(self):
            return audit_query.portal_account_changes(self, await _names_portal_account(info, self.target_id))
        if not audit_query.about_client(self):
            return self.changes
        principal = await info.context.require_principal()
        client = None
        if self.target_id is not None:
            client = await info.context.loaders.of(client_relations.clients_by_id).load(str(self.target_id))
        return audit_query.client_changes(info.context, principal, self, client)

    @strawberry.field
    async def location(self: Any, info: Info) -> Location | None:
        if self.location_id is None:
            return None
        principal = await info.context.principal()
        row = await info.context.loaders.of(relations.locations_by_id).load(str(self.location_id))
        return row if row is not None and principal and can_see_location(principal, str(row.id)) else None


@strawberry.input
class AuditFilter:
    actor_id: strawberry.ID | None = None
    target_type: str | None = None  # any case: resolvers/audit_query.py `target_type`
    target_id: strawberry.ID | None = None
    action: str | None = strawberry.field(
        default=None, description='Exact, or a prefix ending in "." (e.g. "client.").'
    )
    from_: datetime | None = strawberry.field(default=None, name="from", description="Inclusive.")
    to: datetime | None = strawberry.field(default=None, description="Exclusive.")

    def query(self) -> audit_query.AuditQuery:
        return audit_query.AuditQuery(
            actor_id=self.actor_id,
            target_type=self.target_type,
            target_id=self.target_id,
            action=self.action,
            occurred_from=self.from_,
            occurred_to=self.to,
        )


@strawberry.type
class Query:
    @strawberry.field(
        **requires(
            Permission.AUDIT_READ, description="The organization's audit trail, newest first; reading it is recorded."
        )
    )
    async def audit_events(
        self, info: Info, filter: AuditFilter | None = None, first: int | None = 50, after: str | None = None
    ) -> Connection[AuditEvent]:
        check_page(first, after, KEYS)
        query = filter.query() if filter else None
        rows = await audit_query.audit_events_query(info.context, query)
        page = await keyset_page(rows, KEYS, first, after)
        await audit_query.record_read(info.context, query)
        return page


__all__ = ["ActorKind", "AuditEvent", "AuditFilter", "Query"]
