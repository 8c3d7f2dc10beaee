"""Locations: inputs, payloads and root fields (the Location type lives in schema/organization.py)."""

from __future__ import annotations

import strawberry

from permissions.catalog import Permission
from permissions.classes import GrantEffect, requires
from resolvers import locations
from resolvers.inputs import from_input
from schema.errors import Payload, UserError
from schema.info import Info
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
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class Query:
    @strawberry.field(
        **requires(
            description="The locations the viewer may reach (its sites; all with LOCATIONS_MANAGE).", tokens=True
        )
    )
    async def locations(self, info: Info, include_inactive: bool | None = False) -> list[Location]:
        return await locations.list_locations(info.context, bool(include_inactive))  # type: ignore[return-value]

    @strawberry.field(**requires(description="One location; null when out of reach or unknown.", tokens=True))
    async def location(self, info: Info, id: strawberry.ID) -> Location | None:
        return await locations.get_location(info.context, id)  # type: ignore[return-value]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        **requires(Permission.LOCATIONS_MANAGE, description="Create a location.", effects=(GrantEffect.NONE,))
    )
    async def create_location(self, info: Info, input: CreateLocationInput) -> LocationPayload:
        data = from_input(input, locations.CreateLocationData)
        return await LocationPayload.run(info, "location.create", locations.create_location, data)

    @strawberry.mutation(
        **requires(Permission.LOCATIONS_MANAGE, description="Change a location's details.", effects=(GrantEffect.NONE,))
    )
    async def update_location(self, info: Info, input: UpdateLocationInput) -> LocationPayload:
        data = from_input(input, locations.UpdateLocationData)
        return await LocationPayload.run(info, "location.update", locations.update_location, data)

    @strawberry.mutation(
        **requires(
            Permission.LOCATIONS_MANAGE,
            description="Deactivate or reactivate a location: its rows stay, the grants it carried end at once.",
            effects=(GrantEffect.NONE,),
        )
    )
    async def set_location_active(self, info: Info, input: SetLocationActiveInput) -> LocationPayload:
        return await LocationPayload.run(
            info, "location.set_active", locations.set_location_active, input.id, input.active
        )
