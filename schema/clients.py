"""Clients (patients, article 002): types, inputs and root fields.

Types resolve straight from `models.clients.Client` rows. Every field that hands out a client
notes it for the PHI access log (schema/phi.py); `coverage` is guarded per client and notes that
the health card went out. Relations go through per-request DataLoaders and the scoping rule.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

import models.clients as models
from models.enums import ClientSource, ClientStatus, HealthCardCheck
from permissions.catalog import Permission
from permissions.classes import GrantEffect, requires
from permissions.errors import forbidden
from permissions.scoping import can_see_client, can_see_client_invitations
from resolvers import clients as resolvers
from resolvers.client_input import ClientFilterData, CoverageData, PhoneData, UpdateClientData
from resolvers.inputs import from_input
from schema import client_relations, portal, provider_relations, relations
from schema.errors import Payload
from schema.info import Info
from schema.inputs import id_input
from schema.joins import ToOne, answered_by
from schema.limits import CONTACT_ROWS, OWN_ROWS, at_most
from schema.organization import ADDRESS_COLUMNS, Address, AddressInput, Location
from schema.pagination import Connection, SortKey, keyset_page
from schema.portal import ClientInvitation, ClientPortalLink
from schema.reads import Node, reading, reads
from schema.refusals import STAFF_ONLY, refuse_beside, staff_column

if TYPE_CHECKING:
    from schema.providers import Provider

SORT = (SortKey("last_name_key"), SortKey("first_name_key"), SortKey("id"))
# A client's relations that a page may join when only their plain columns are selected.
LOCATION = ToOne("location", "location", "location_id", {"name": "name", "timezone": "timezone", "phone": "phone"})
PRIMARY_PROVIDER = ToOne(
    "primaryProvider",
    "primary_provider",
    "primary_provider_id",
    {"displayName": "display_name", "specialty": "specialty", "profileImageUrl": "profile_image_url"},
)
JOINS = (LOCATION, PRIMARY_PROVIDER)


def _reading(info: Info, path: tuple[str, ...]) -> Any:
    return reading(info, path, CLIENT_NODE, JOINS)


def seen(info: Info, rows: Iterable[Any]) -> None:
    """Note clients handed out by a field, for the request's one PHI access event."""
    for row in rows:
        info.context.note_client_read(str(row.id))


@strawberry.type
class ContactPhone:
    label: str
    number: str


@strawberry.input
class ContactPhoneInput(PhoneData):
    """`PhoneData`'s fields, declared once there, so the input and what the resolvers check cannot
    drift apart; `from_input` rebuilds it as one."""


@strawberry.type
class EmergencyContact:
    name: str
    relationship: str | None
    phone: str
    email: str | None


@strawberry.input
class EmergencyContactInput:
    name: str
    phone: str
    relationship: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET


@strawberry.type(description="Health card and coverage/insurance fields (resolved from the client's row).")
class Coverage:
    health_card_province: str | None
    health_card_number: str | None
    health_card_version: str | None
    health_card_check: HealthCardCheck
    fee_program: str | None
    fee_program_number: str | None
    billing_authorization_number: str | None
    case_number: str | None
    sessions_authorized: int | None
    billing_notes: str | None


@strawberry.input
class CoverageInput(CoverageData):
    """`CoverageData`'s fields, declared once there (each UNSET when left out, none with a
    description), so the input and what the resolvers check cannot drift apart; `from_input`
    rebuilds it as one."""


@strawberry.type
class Client:
    id: strawberry.ID
    first_name: str
    last_name: str
    preferred_name: str | None
    salutation: str | None
    pronouns: str | None
    date_of_birth: date | None
    preferred_language: str = strawberry.field(description="BCP 47, e.g. en, fr.")
    timezone: str = strawberry.field(description="IANA name.")
    email: str | None
    email_consent: bool
    mobile: str | None = strawberry.field(description="E.164.")
    mobile_is_primary: bool
    sms_consent: bool
    voice_consent: bool
    status: ClientStatus
    source: ClientSource
    version: int
    created_at: datetime
    updated_at: datetime

    # Staff-only parts of the profile: a portal account (which reaches only its linked clients) gets
    # null and one FORBIDDEN at each (docs/architecture.md "Client portal"); staff read the column.
    sex_at_birth = staff_column(str | None)
    referring_provider_name = staff_column(str | None)
    is_qualified = staff_column(bool | None)
    veteran_id = staff_column(str | None)
    alert = staff_column(str | None, "Shown to every user who may see the client. " + STAFF_ONLY)

    @strawberry.field(**at_most(CONTACT_ROWS, {"metadata": reads("phones")}))
    def phones(self: Any) -> list[ContactPhone]:
        return [ContactPhone(label=p.get("label", ""), number=p.get("number", "")) for p in self.phones or []]

    @strawberry.field(**at_most(CONTACT_ROWS, {"metadata": reads("emergency_contacts")}))
    def emergency_contacts(self: Any) -> list[EmergencyContact]:
        return [
            EmergencyContact(
                name=c.get("name", ""),
                relationship=c.get("relationship"),
                phone=c.get("phone", ""),
                email=c.get("email"),
            )
            for c in self.emergency_contacts or []
        ]

    @strawberry.field(metadata=reads(*ADDRESS_COLUMNS))
    def address(self: Any) -> Address | None:
        return Address.from_row(self)

    # The two relations every page shows: from the page's own statement when it joined them
    # (`answered_by`, schema/joins.py), else the DataLoader's future from a plain function (the
    # executor awaits it): no coroutine, and so no task, per row (docs/architecture.md "Performance
    # rules").
    @strawberry.field(description="Where the client is treated; drives scoping.", metadata=reads("location_id"))
    @answered_by(LOCATION)
    def location(self: Any, info: Info) -> Location:
        # Seeing a client means holding a client permission at its location, which implies being able
        # to see that (active) location: no further filter can hide it here.
        return info.context.loaders.of(relations.locations_by_id).load(str(self.location_id))  # type: ignore[return-value]

    @strawberry.field(
        description="Public provider fields show through a client the viewer may see.",
        metadata=reads("primary_provider_id"),
    )
    @answered_by(PRIMARY_PROVIDER)
    def primary_provider(self: Any, info: Info) -> Annotated[Provider, strawberry.lazy("schema.providers")] | None:
        if self.primary_provider_id is None:
            return None
        return info.context.loaders.of(provider_relations.providers_by_id).load(str(self.primary_provider_id))  # type: ignore[return-value]

    @strawberry.field(description="Guarded: CLIENTS_COVERAGE_READ at the client's location (else null and FORBIDDEN).")
    async def coverage(self: Any, info: Info) -> Coverage | None:
        principal = await info.context.require_principal()
        if not principal.grants.has(Permission.CLIENTS_COVERAGE_READ, str(self.location_id)):
            raise forbidden("Coverage needs the CLIENTS_COVERAGE_READ permission at the client's location.")
        info.context.note_client_read(str(self.id), coverage=True)
        return self

    @strawberry.field(description="The client this one was merged into (when MERGED).")
    async def merged_into(self: Any, info: Info) -> Client | None:
        if self.merged_into_id is None:
            return None
        row = await info.context.loaders.of(client_relations.clients_by_id).load(str(self.merged_into_id))
        visible = await _visible(info, [row] if row is not None else [])
        return visible[0] if visible else None

    @strawberry.field(**at_most(OWN_ROWS, {"description": "Clients folded into this one (lineage)."}))
    async def merged_from(self: Any, info: Info) -> list[Client]:
        rows = await info.context.loaders.of(client_relations.clients_merged_into).load(str(self.id))
        return await _visible(info, rows)

    @strawberry.field(
        **at_most(
            OWN_ROWS,
            {"description": "Who may manage this client's appointments. A portal account sees its own link only."},
        )
    )
    async def portal_links(self: Any, info: Info) -> list[ClientPortalLink]:
        rows = await info.context.loaders.of(portal.links_of_clients).load(str(self.id))
        principal = await info.context.require_principal()
        if principal.portal_account is not None:
            return [r for r in rows if str(r.account_id) == str(principal.portal_account.id)]
        return rows  # type: ignore[no-any-return]

    @strawberry.field(
        **at_most(
            OWN_ROWS,
            {
                "description": "Guarded: CLIENT_PORTAL_MANAGE at the client's location; without it empty and one "
                "FORBIDDEN error at its path (the list is non-null, so a refusal must not null the client). "
                "Newest first."
            },
        )
    )
    async def invitations(self: Any, info: Info) -> list[ClientInvitation]:
        principal = await info.context.require_principal()
        if not can_see_client_invitations(principal, str(self.location_id)):
            refuse_beside(info, "Invitations need the CLIENT_PORTAL_MANAGE permission at the client's location.")
            return []
        return await info.context.loaders.of(portal.invitations_of_clients).load(str(self.id))  # type: ignore[no-any-return]


# A client's narrow read (schema/reads.py): its key, the page's sort keys, the location that scopes it,
# and what a list of clients shows.
CLIENT_NODE = Node(
    Client,
    models.Client,
    (
        *("id", "organization_id", "location_id", *(key.field for key in SORT)),
        *("first_name", "last_name", "preferred_name", "date_of_birth", "mobile", "email", "status"),
        "primary_provider_id",
    ),
)


async def one_visible(info: Info, client_id: str) -> Client:
    """The client a portal link or invitation points at, through the scoping rule (and noted for the
    access log); the paths that reach one have already limited themselves to visible clients."""
    row = await info.context.loaders.of(client_relations.clients_by_id).load(client_id)
    visible = await _visible(info, [row] if row is not None else [])
    if not visible:
        raise forbidden("This client is not visible to you.")
    return visible[0]  # type: ignore[no-any-return]


async def _visible(info: Info, rows: list[Any]) -> list[Any]:
    """The rows (loaded with their primary provider) the viewer may see, noted for the access log."""
    principal = await info.context.require_principal()
    visible = [
        r
        for r in rows
        if can_see_client(
            principal,
            str(r.location_id),
            str(r.primary_provider.user_id) if r.primary_provider else None,
            organization_id=str(r.organization_id),
            client_id=str(r.id),
        )
    ]
    seen(info, visible)
    return visible


@strawberry.input
class ClientFilter:
    search: str | None = strawberry.field(
        default=strawberry.UNSET, description="Prefix of first, last or preferred name, email, or mobile."
    )
    location_id: strawberry.ID | None = strawberry.UNSET
    primary_provider_id: strawberry.ID | None = strawberry.UNSET
    status: list[ClientStatus] | None = strawberry.field(default_factory=lambda: [ClientStatus.ACTIVE])
    date_of_birth: date | None = strawberry.UNSET
    health_card_number: str | None = strawberry.field(
        default=strawberry.UNSET, description="Exact; needs CLIENTS_COVERAGE_READ."
    )


@strawberry.input
class CreateClientInput:
    first_name: str
    last_name: str
    location_id: strawberry.ID
    preferred_name: str | None = strawberry.UNSET
    salutation: str | None = strawberry.UNSET
    pronouns: str | None = strawberry.UNSET
    sex_at_birth: str | None = strawberry.UNSET
    date_of_birth: date | None = strawberry.UNSET
    preferred_language: str | None = "en"
    timezone: str | None = strawberry.field(default=strawberry.UNSET, description="Default: the location's.")
    email: str | None = strawberry.UNSET
    email_consent: bool | None = True
    mobile: str | None = strawberry.field(default=strawberry.UNSET, description="Required when smsConsent is true.")
    mobile_is_primary: bool | None = True
    sms_consent: bool | None = True
    voice_consent: bool | None = False
    phones: list[ContactPhoneInput] | None = strawberry.field(default_factory=list)
    emergency_contacts: list[EmergencyContactInput] | None = strawberry.field(default_factory=list)
    address: AddressInput | None = strawberry.UNSET
    referring_provider_name: str | None = strawberry.UNSET
    is_qualified: bool | None = strawberry.UNSET
    veteran_id: str | None = strawberry.UNSET
    primary_provider_id: strawberry.ID | None = strawberry.UNSET
    alert: str | None = strawberry.UNSET
    coverage: CoverageInput | None = strawberry.field(
        default=strawberry.UNSET, description="Needs CLIENTS_COVERAGE_MANAGE."
    )
    send_portal_invitation: bool | None = strawberry.field(
        default=False,
        description="Claim email to `email`, valid 72 hours; needs CLIENT_PORTAL_MANAGE at the location.",
    )


@strawberry.input
class UpdateClientInput(UpdateClientData):
    """`UpdateClientData`'s fields, declared once there; only what the API types differently (ids,
    nested inputs) or describes is declared again here, in the same place in the field order."""

    id: strawberry.ID
    phones: list[ContactPhoneInput] | None = strawberry.UNSET
    emergency_contacts: list[EmergencyContactInput] | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    location_id: strawberry.ID | None = strawberry.UNSET
    primary_provider_id: strawberry.ID | None = strawberry.UNSET
    coverage: CoverageInput | None = strawberry.field(
        default=strawberry.UNSET, description="Needs CLIENTS_COVERAGE_MANAGE."
    )


ArchiveClientInput = id_input("ArchiveClientInput")


class HandsOutClient(Payload):
    """A payload whose `client` is handed out: noted for the PHI access log, as any read."""

    @classmethod
    async def run(
        cls, info: Info, action: str, resolver: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Self:
        result = await super().run(info, action, resolver, *args, **kwargs)
        if getattr(result, "client", None) is not None:
            seen(info, [result.client])  # type: ignore[attr-defined]
        return result


@strawberry.type
class ClientPayload(HandsOutClient, result="client"):
    client: Client | None = None


async def _page(info: Info, query: Any, first: int | None, after: str | None) -> Connection[Client]:
    rows = _reading(info, (info.field_name, "edges", "node"))(query)
    page = await keyset_page(query, SORT, first, after, rows)
    seen(info, (edge.node for edge in page.edges))
    return page


@strawberry.type
class Query:
    @strawberry.field(
        **requires(
            Permission.CLIENTS_READ,
            description='"All Clients": clients at the locations where the viewer holds CLIENTS_READ (and its own '
            "with CLIENTS_READ_OWN), by last name, first name. Status defaults to ACTIVE; the healthCardNumber "
            "filter needs CLIENTS_COVERAGE_READ.",
        )
    )
    async def clients(
        self, info: Info, filter: ClientFilter | None = None, first: int | None = 50, after: str | None = None
    ) -> Connection[Client]:
        data = from_input(filter, ClientFilterData) if filter is not None else None
        query = await resolvers.clients_query(info.context, data)
        return await _page(info, query, first, after)

    @strawberry.field(
        **requires(
            description='"My Clients": active clients whose primary provider is the viewer. Requires '
            "CLIENTS_READ_OWN or CLIENTS_READ at the client's location."
        )
    )
    async def my_clients(self, info: Info, first: int | None = 50, after: str | None = None) -> Connection[Client]:
        return await _page(info, await resolvers.my_clients_query(info.context), first, after)

    @strawberry.field(
        **requires(
            description="One client; null when it does not exist or is outside the viewer's scope (a portal "
            "account sees the clients it is linked to).",
            portal=True,
            tokens=True,
        )
    )
    async def client(self, info: Info, id: strawberry.ID) -> Client | None:
        row = await resolvers.get_client(info.context, id, _reading(info, (info.field_name,)))
        if row is not None:
            seen(info, [row])
        return row  # type: ignore[return-value]


@strawberry.type
class Mutation:
    create_client = strawberry.mutation(
        resolver=ClientPayload.resolver(CreateClientInput, "client.create", resolvers.create_client),
        **requires(
            Permission.CLIENTS_MANAGE,
            description="Create a client at a location where CLIENTS_MANAGE is held.",
            effects=(GrantEffect.NONE,),
        ),
    )
    update_client = strawberry.mutation(
        resolver=ClientPayload.resolver(UpdateClientInput, "client.update", resolvers.update_client),
        **requires(
            Permission.CLIENTS_MANAGE,
            Permission.CLIENTS_COVERAGE_MANAGE,
            any_of=True,
            description="Edit a client (CONFLICT when expectedVersion is stale): each field needs its own "
            "permission at the client's location, coverage CLIENTS_COVERAGE_MANAGE (a change of coverage alone "
            "needs only that), every other field CLIENTS_MANAGE; moving it needs CLIENTS_MANAGE at both locations, "
            "and CLIENT_PORTAL_MANAGE at the new one when it has portal accounts or pending invitations.",
            effects=(GrantEffect.NONE,),
        ),
    )
    archive_client = strawberry.mutation(
        resolver=ClientPayload.resolver(ArchiveClientInput, "client.archive", resolvers.archive_client, "id"),
        **requires(
            Permission.CLIENTS_MANAGE, description="Archive a client (never deleted).", effects=(GrantEffect.NONE,)
        ),
    )
