"""Providers (clinicians): types, inputs and root fields (article 003).

Types resolve straight from `models.providers.Provider` rows. Every relation goes through a
per-request DataLoader (schema/provider_relations.py, schema/relations.py) and the scoping rules:
`user` shows only a user the viewer may see, `billing` needs BILLING_READ at one of the provider's
sites (else null and one FORBIDDEN error at its path), and `clientCount` / `clients` count and list
only clients the viewer could fetch directly.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from models.enums import BillingRole, ProviderStatus
from permissions.catalog import Permission
from permissions.classes import GrantEffect, requires
from permissions.errors import forbidden
from permissions.scoping import can_see_location, can_see_provider, can_see_user
from resolvers import providers as resolvers
from resolvers.inputs import from_input
from resolvers.providers import Sites
from schema import provider_relations, relations
from schema.errors import Payload
from schema.info import Info
from schema.inputs import id_input
from schema.limits import OWN_ROWS, at_most
from schema.organization import Location
from schema.pagination import (
    Connection,
    SortKey,
    check_first,
    check_page,
    edges_of,
    keyset_page,
    page_info,
)
from schema.refusals import STAFF_ONLY, staff_column, staff_only
from schema.users import User

if TYPE_CHECKING:
    from schema.clients import Client

SORT = (SortKey("display_name_key"), SortKey("id"))


@strawberry.type
class ProviderSettings:
    messaging_enabled: bool
    default_rtm_status: bool


@strawberry.type
class BillingNumbers:
    provincial_billing_number: str | None
    group_billing_number: str | None


async def provider_sites(info: Info, provider: Any) -> Sites:
    """Where the provider's user works, through the request's loaders (two batched statements a page)."""
    user = await info.context.loaders.of(relations.users_by_id).load(str(provider.user_id))
    site_ids = await info.context.loaders.of(relations.user_site_ids).load(str(provider.user_id))
    return Sites(bool(user and user.all_locations), frozenset(str(s) for s in site_ids))


async def _seen_directly(info: Info, provider: Any) -> bool:
    """Whether the viewer may see this provider itself (PROVIDERS_READ at one of its sites), not just
    as the primary provider of a client it may see, where only the public fields show (docs/architecture.md
    "Principals and grants")."""
    principal = await info.context.require_principal()
    sites = await provider_sites(info, provider)
    return can_see_provider(principal, sites.all_locations, sites.ids, organization_id=str(provider.organization_id))


@strawberry.type
class Provider:
    id: strawberry.ID
    display_name: str
    specialty: str | None
    profile_image_url: str | None = strawberry.field(description="An https:// address.")
    version: int

    @strawberry.field(description="A scheduled deactivation (null through a client without PROVIDERS_READ).")
    async def deactivate_at(self: Any, info: Info) -> datetime | None:
        return self.deactivate_at if await _seen_directly(info, self) else None

    @strawberry.field(description="When deactivated (null through a client without PROVIDERS_READ).")
    async def deactivated_at(self: Any, info: Info) -> datetime | None:
        return self.deactivated_at if await _seen_directly(info, self) else None

    @strawberry.field(
        description="DEACTIVATION_SCHEDULED shows as INACTIVE once its date has passed, and as ACTIVE through a "
        "client without PROVIDERS_READ (where the date does not show either)."
    )
    async def status(self: Any, info: Info) -> ProviderStatus:
        shown = resolvers.effective_status(self, info.context.now())
        if shown is ProviderStatus.DEACTIVATION_SCHEDULED and not await _seen_directly(info, self):
            return ProviderStatus.ACTIVE  # when a provider leaves is its own and HR's, like `deactivateAt`
        return shown

    billing_role = staff_column(BillingRole)

    @strawberry.field(description=STAFF_ONLY)
    def settings(self: Any, info: Info) -> ProviderSettings:
        staff_only(info, None)
        return ProviderSettings(messaging_enabled=self.messaging_enabled, default_rtm_status=self.default_rtm_status)

    @strawberry.field(
        description="Guarded: the viewer must be able to see that user (USERS_READ at one of its sites), "
        "else null and a FORBIDDEN error."
    )
    async def user(self: Any, info: Info) -> User | None:
        principal = await info.context.require_principal()
        row = await info.context.loaders.of(relations.users_by_id).load(str(self.user_id))
        site_ids = await info.context.loaders.of(relations.user_site_ids).load(str(self.user_id))
        if row is None:
            return None
        if not can_see_user(
            principal, str(row.id), row.all_locations, site_ids, organization_id=str(row.organization_id)
        ):
            raise forbidden("The provider's user needs the USERS_READ permission at one of its sites.")
        return row

    @strawberry.field(
        description="Guarded: BILLING_READ at one of the provider's sites (else null and a FORBIDDEN error)."
    )
    async def billing(self: Any, info: Info) -> BillingNumbers | None:
        principal = await info.context.require_principal()
        sites = await provider_sites(info, self)
        if not sites.billing_readable(principal.grants):
            raise forbidden("Billing numbers need the BILLING_READ permission at one of the provider's sites.")
        return BillingNumbers(
            provincial_billing_number=self.provincial_billing_number,
            group_billing_number=self.group_billing_number,
        )

    @strawberry.field(**at_most(OWN_ROWS, {"description": "The provider's sites (those the viewer may see)."}))
    async def locations(self: Any, info: Info) -> list[Location]:
        principal = await info.context.require_principal()
        sites = await provider_sites(info, self)
        if not await _seen_directly(info, self):
            # Reached through a client: only the public fields (name, specialty, status) show.
            return []
        if sites.all_locations:
            rows = await info.context.loaders.of(provider_relations.organization_locations).load(
                str(self.organization_id)
            )
        else:
            rows = await info.context.loaders.of(relations.user_locations).load(str(self.user_id))
        return [r for r in rows if can_see_location(principal, str(r.id), organization_id=str(r.organization_id))]

    @strawberry.field(description="Clients whose primary provider this is, in the viewer's scope.")
    async def client_count(self: Any, info: Info) -> int:
        principal = await info.context.require_principal()
        loader = info.context.loaders.of(provider_relations.per_viewer(provider_relations.client_counts, principal))
        return await loader.load(str(self.id))

    @strawberry.field(description="Only the clients the viewer may see, by last name, first name.")
    async def clients(
        self: Any, info: Info, first: int | None = 50, after: str | None = None
    ) -> Connection[Annotated[Client, strawberry.lazy("schema.clients")]]:
        limit = check_page(first, after, provider_relations.CLIENT_KEYS)
        principal = await info.context.require_principal()
        pages = info.context.loaders.of(provider_relations.per_viewer(provider_relations.client_pages, principal))
        counts = info.context.loaders.of(provider_relations.per_viewer(provider_relations.client_counts, principal))
        rows = await pages.load((str(self.id), limit, after)) if limit else []
        total = await counts.load(str(self.id))
        page = rows[:limit]
        for row in page:
            info.context.note_client_read(str(row.id))
        edges = edges_of(page, provider_relations.CLIENT_KEYS)
        return Connection(
            edges=edges,
            page_info=page_info(edges, len(rows) > limit),
            known_total=total,
        )


@strawberry.input
class ProviderFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Prefix of the display name, or of its user's last name where the viewer may see that user.",
    )
    status: ProviderStatus | None = None
    location_id: strawberry.ID | None = None
    billing_role: BillingRole | None = None


@strawberry.input
class ProviderSettingsInput(resolvers.ProviderSettingsData):
    """`ProviderSettingsData`'s fields, declared once there (UNSET when left out), so the input and
    what `updateProvider` applies cannot drift apart; `from_input` rebuilds it as one."""


@strawberry.input
class UpdateProviderInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description="When given and stale: CONFLICT.")
    display_name: str | None = strawberry.UNSET
    specialty: str | None = strawberry.UNSET
    billing_role: BillingRole | None = strawberry.UNSET
    provincial_billing_number: str | None = strawberry.field(
        default=strawberry.UNSET, description="Needs BILLING_MANAGE."
    )
    group_billing_number: str | None = strawberry.field(default=strawberry.UNSET, description="Needs BILLING_MANAGE.")
    profile_image_url: str | None = strawberry.field(default=strawberry.UNSET, description="https:// only.")
    settings: ProviderSettingsInput | None = strawberry.UNSET


@strawberry.input
class DeactivateProviderInput:
    id: strawberry.ID
    effective_at: datetime | None = strawberry.field(default=None, description="Omit or past: now; future: scheduled.")
    reassign_clients_to_provider_id: strawberry.ID | None = strawberry.field(
        default=None, description="Their clients' new primary provider."
    )


CancelProviderDeactivationInput = id_input("CancelProviderDeactivationInput")
ReactivateProviderInput = id_input("ReactivateProviderInput")


@strawberry.type
class ProviderPayload(Payload, result="provider"):
    provider: Provider | None = None
    reassigned_client_count: int | None = None

    @classmethod
    def of_result(cls, result: Any) -> ProviderPayload:
        """deactivateProvider answers with the provider and how many of its clients moved."""
        if isinstance(result, resolvers.DeactivationResult):
            return cls(provider=result.provider, reassigned_client_count=result.reassigned_client_count)  # type: ignore[arg-type]
        return super().of_result(result)


@strawberry.type
class Query:
    @strawberry.field(
        **requires(
            Permission.PROVIDERS_READ,
            description="Providers the viewer may see (PROVIDERS_READ at one of their sites), by display name.",
        )
    )
    async def providers(
        self, info: Info, filter: ProviderFilter | None = None, first: int | None = 50, after: str | None = None
    ) -> Connection[Provider]:
        check_first(first)
        data = from_input(filter, resolvers.ProviderFilterData) if filter is not None else None
        query = await resolvers.providers_query(info.context, data)
        return await keyset_page(query, SORT, first, after)

    @strawberry.field(
        **requires(
            Permission.PROVIDERS_READ,
            description="One provider; null when it does not exist or is outside the viewer's scope.",
        )
    )
    async def provider(self, info: Info, id: strawberry.ID) -> Provider | None:
        return await resolvers.get_provider(info.context, id)  # type: ignore[return-value]


# Deactivating, calling it off and reactivating: each may restore what a provider's user held.
_deactivation = partial(requires, Permission.PROVIDERS_DEACTIVATE, effects=(GrantEffect.RESTORES,))


@strawberry.type
class Mutation:
    update_provider = strawberry.mutation(
        resolver=ProviderPayload.resolver(UpdateProviderInput, "provider.update", resolvers.update_provider),
        **requires(
            Permission.PROVIDERS_MANAGE,
            Permission.BILLING_MANAGE,
            any_of=True,
            description="Edit a provider's profile and settings: each field needs its own permission at every "
            "one of the provider's sites, profile and settings PROVIDERS_MANAGE, billing numbers BILLING_MANAGE "
            "(a change of billing numbers alone needs only BILLING_MANAGE).",
            effects=(GrantEffect.NONE,),
        ),
    )

    deactivate_provider = strawberry.mutation(
        resolver=ProviderPayload.resolver(
            DeactivateProviderInput, "provider.deactivate", resolvers.deactivate_provider
        ),
        **_deactivation(
            description="Deactivate now (provider and user inactive, sessions ended, clients reassigned) or on a "
            "future date (DEACTIVATION_SCHEDULED). Reassigning needs CLIENTS_MANAGE at each client's location."
        ),
    )
    cancel_provider_deactivation = strawberry.mutation(
        resolver=ProviderPayload.resolver(
            CancelProviderDeactivationInput, "provider.deactivation_cancel", resolvers.cancel_deactivation, "id"
        ),
        **_deactivation(description="Call off a scheduled deactivation."),
    )
    reactivate_provider = strawberry.mutation(
        resolver=ProviderPayload.resolver(
            ReactivateProviderInput, "provider.reactivate", resolvers.reactivate_provider, "id"
        ),
        **_deactivation(
            description="Make an inactive provider and its user active again (login access stays as it was)."
        ),
    )
