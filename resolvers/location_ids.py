"""Location ids a caller names in an input (a user's sites, a group's or an integration's locations),
resolved through the location scoping rule (`permissions/scoping.py` `location_q`): an unknown id
and one the actor may not see are the same NOT_FOUND, before anything else is said of it, since
"deactivated" or FORBIDDEN about a location out of reach would tell that it exists
(docs/architecture.md "Scoping pairs"). What each input then says of the found ones (per index or
for the whole field, whether a deactivated one may be named) is its caller's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from models.organization import Location
from permissions.principal import Principal
from permissions.scoping import location_q
from resolvers.inputs import parse_uuid


async def visible_locations(
    principal: Principal, raw_ids: Sequence[Any]
) -> tuple[list[UUID | None], dict[str, Location]]:
    """Each id as parsed (None: malformed), and the locations among them the actor may see, by id:
    one statement."""
    parsed = [parse_uuid(raw) for raw in raw_ids]
    wanted = sorted({p for p in parsed if p is not None}, key=str)
    if not wanted:
        return parsed, {}
    rows = await Location.filter(location_q(principal), id__in=wanted)
    return parsed, {str(row.id): row for row in rows}
