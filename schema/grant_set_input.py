"""The inputs of a named set of permissions held at all locations or at some: a permission group and a
partner integration are each one, created and changed with the same five fields (`GrantSetData` and
`GrantSetChanges` in `resolvers/grant_set_input.py`, which they become). Declared once, so the two
domains' inputs cannot drift apart; each domain's input adds what is its own. Neither base is in the
API by itself: only the inputs deriving from them are.
"""

from __future__ import annotations

import strawberry

from permissions.catalog import Permission


@strawberry.input
class GrantSetInput:
    name: str
    permissions: list[Permission] = strawberry.field(description="At most what the viewer holds.")
    description: str | None = None
    all_locations: bool | None = False
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default_factory=list, description="Within the viewer's locations."
    )


@strawberry.input
class GrantSetChangesInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    permissions: list[Permission] | None = strawberry.UNSET
    all_locations: bool | None = strawberry.UNSET
    location_ids: list[strawberry.ID] | None = strawberry.field(
        default=strawberry.UNSET, description="Replaces its locations."
    )
