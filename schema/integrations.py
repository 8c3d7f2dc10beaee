"""Partner integrations and their scoped API tokens: the contract's types.

Only the types exist yet (the Viewer names them); the integrations issue brings the rows, the
root fields and the INTEGRATION principal.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from schema.enums import Permission

if TYPE_CHECKING:
    from schema.organization import Location
    from schema.users import User


@strawberry.type
class ApiToken:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The first characters, to recognise it.")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@strawberry.type
class Integration:
    id: strawberry.ID
    name: str
    description: str | None
    permissions: list[Permission]
    all_locations: bool
    locations: list[Annotated[Location, strawberry.lazy("schema.organization")]]
    is_active: bool
    created_by: Annotated[User, strawberry.lazy("schema.users")] | None
    created_at: datetime
    tokens: list[ApiToken]
