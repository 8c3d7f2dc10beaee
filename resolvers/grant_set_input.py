"""The input of a named set of permissions held at all locations or at some: a permission group and a
partner integration are each one (docs/architecture.md "Principals and grants": an integration's
grants are computed as one unrestricted group's, at its locations), created and changed with the same
five fields. Declared once, so the two inputs cannot drift apart; each resolver's dataclass adds what
is its own (a group's members, an integration's active flag) and says where a new one works unless
told (`all_locations`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from permissions.catalog import Permission
from resolvers.inputs import UNSET


@dataclass
class GrantSetData:
    name: str
    permissions: list[Permission]
    description: str | None = None
    all_locations: bool = False
    location_ids: list[str] = field(default_factory=list)


@dataclass
class GrantSetChanges:
    """Every field but `id` may be UNSET (left out); `location_ids` replaces the locations."""

    id: str
    name: str | None = UNSET
    description: str | None = UNSET
    permissions: list[Permission] | None = UNSET
    all_locations: bool | None = UNSET
    location_ids: list[str] | None = UNSET
