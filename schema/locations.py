"""Locations: inputs, payloads and root fields (the Location type lives in schema/organization.py)."""

from __future__ import annotations

from functools import partial

import strawberry

from permissions.catalog import Permission
from permissions.classes import GrantEffect, requires
from resolvers import locations
from schema.errors import Payload
from schema.info import Info
from schema.limits import ORGANIZATION_ROWS, at_most
from schema.organization import AddressInput, Location


@strawberry.input
class CreateLocationInput:
    name: str
    timezone: str = strawberry.field(description="IANA name, e.g. America/Toronto.")
    phone: str | None = None
    address: AddressInput | None = None


@strawberry.input
class UpdateLocationInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    timezone: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    address: AddressInput | None = strawberry.field(default=strawberry.UNSET, description="Replaces the address.")


@strawberry.input
class SetLocationActiveInput:
    id: strawberry.ID
    active: bool


@strawberry.type
class LocationPayload(Payload, result="location"):
    location: Location | None = None


@strawberry.type
class Query:
    @strawberry.field(
        **at_most(
            ORGANIZATION_ROWS,
            requires(
                description="The locations the viewer may reach (its sites; all with LOCATIONS_MANAGE).", tokens=True
            ),
        )
    )
    async def locations(self, info: Info, include_inactive: bool | None = False) -> list[Location]:
        return await locations.list_locations(info.context, bool(include_inactive))  # type: ignore[return-value]

    @strawberry.field(**requires(description="One location; null when out of reach or unknown.", tokens=True))
    async def location(self, info: Info, id: strawberry.ID) -> Location | None:
        return await locations.get_location(info.context, id)  # type: ignore[return-value]


# Creating and changing a location add no grant (reactivating one restores what it carried: below).
_manage = partial(requires, Permission.LOCATIONS_MANAGE, effects=(GrantEffect.NONE,))


@strawberry.type
class Mutation:
    create_location = strawberry.mutation(
        resolver=LocationPayload.resolver(CreateLocationInput, "location.create", locations.create_location),
        **_manage(description="Create a location."),
    )
    update_location = strawberry.mutation(
        resolver=LocationPayload.resolver(UpdateLocationInput, "location.update", locations.update_location),
        **_manage(description="Change a location's details."),
    )
    set_location_active = strawberry.mutation(
        resolver=LocationPayload.resolver(
            SetLocationActiveInput, "location.set_active", locations.set_location_active, "id", "active"
        ),
        **requires(
            Permission.LOCATIONS_MANAGE,
            effects=(GrantEffect.RESTORES,),
            description="Deactivate or reactivate a location: its rows stay, the grants it carried end at once "
            "(and come back with it: reactivating needs them all within the actor's own).",
        ),
    )
