"""Organization and locations: types and the queries over them."""

from __future__ import annotations

from typing import Any

import strawberry

from models.organization import Location as LocationModel
from resolvers.locations import AddressData
from resolvers.seats import seats_used
from schema.info import Info
from schema.refusals import STAFF_ONLY, staff_column, staff_only

# Address fields by the model column each is read from (clients and locations alike).
ADDRESS_FIELDS = {
    "line1": "address_line1",
    "line2": "address_line2",
    "city": "address_city",
    "province": "address_province",
    "postal_code": "address_postal_code",
    "country": "address_country",
}
ADDRESS_COLUMNS = tuple(ADDRESS_FIELDS.values())


@strawberry.type
class Address:
    line1: str | None = None
    line2: str | None = strawberry.field(default=None, description="Apt / suite / floor.")
    city: str | None = None
    province: str | None = strawberry.field(default=None, description="ISO 3166-2 subdivision code, e.g. ON.")
    postal_code: str | None = None
    country: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-2, default CA.")

    @classmethod
    def from_row(cls, row: Any) -> Address | None:
        """The address_* columns of a model as an Address, or None when all are empty."""
        values = {name: getattr(row, column) for name, column in ADDRESS_FIELDS.items()}
        return cls(**values) if any(values.values()) else None


@strawberry.input
class AddressInput(AddressData):
    """The address a location or client is given: `AddressData`'s fields, declared once there, so
    the input and what the resolvers check cannot drift apart (none has a description of its own)."""


@strawberry.type
class Location:
    id: strawberry.ID
    name: str
    timezone: str = strawberry.field(description="IANA name.")
    phone: str | None
    is_active: bool

    @strawberry.field
    def address(self: Any) -> Address | None:
        return Address.from_row(self)


@strawberry.type
class Organization:
    id: strawberry.ID
    name: str
    slug: str
    seat_limit = staff_column(int | None, "null: unlimited. " + STAFF_ONLY)

    @strawberry.field(description="Active users whose accessStatus is INVITED or ENABLED. " + STAFF_ONLY)
    async def seats_used(self: Any, info: Info) -> int:
        staff_only(info, None)
        return await seats_used(str(self.id))


__all__ = ["Address", "AddressInput", "Location", "LocationModel", "Organization", "seats_used"]
