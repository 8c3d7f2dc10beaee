"""Permission groups: the PermissionGroup type, its inputs and payloads, and the root fields."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from permissions.catalog import Permission, parse_codes
from permissions.classes import GrantEffect, requires
from permissions.scoping import can_see_location
from resolvers import groups
from schema import group_relations
from schema.errors import Payload
from schema.grant_set_input import GrantSetChangesInput, GrantSetInput
from schema.info import Info
from schema.limits import ORGANIZATION_ROWS, OWN_ROWS, at_most
from schema.organization import Location
from schema.pagination import Connection, check_page

if TYPE_CHECKING:
    from schema.users import User

UserNode = Annotated["User", strawberry.lazy("schema.users")]


def read_access(description: str) -> dict[str, Any]:
    """An authenticated session; the resolver then asks for GROUPS_MANAGE or USERS_MANAGE (an OR,
    which `requires` does not express), and the description says so."""
    access = requires(description=description, tokens=True)
    access["description"] = (
        f"{description}\n\nRequires: GROUPS_MANAGE (organization-wide) or USERS_MANAGE (at some location)."
    )
    return access


@strawberry.type
class PermissionGroup:
    id: strawberry.ID
    name: str
    description: str | None
    all_locations: bool = strawberry.field(description="false: the permissions apply only at `locations`.")

    @strawberry.field
    def permissions(self: Any) -> list[Permission]:
        return parse_codes(self.permission_codes)

    @strawberry.field(**at_most(OWN_ROWS, {"description": "The group's locations (those the viewer may see)."}))
    async def locations(self: Any, info: Info) -> list[Location]:
        principal = await info.context.principal()
        rows = await info.context.loaders.of(group_relations.group_locations).load(str(self.id))
        return [
            r
            for r in rows
            if principal and can_see_location(principal, str(r.id), organization_id=str(r.organization_id))
        ]

    @strawberry.field(
        description="Members the viewer may see (like members.totalCount); to one who may not see groups "
        "(GROUPS_MANAGE or USERS_MANAGE), only itself."
    )
    async def member_count(self: Any, info: Info) -> int:
        principal = await info.context.require_principal()
        key = group_relations.MembersKey.of(principal, str(self.id), 0, None)
        return await info.context.loaders.of(group_relations.group_member_counts).load(key)

    @strawberry.field(
        description="Members the viewer may see, by last name, first name; to one who may not see groups "
        "(GROUPS_MANAGE or USERS_MANAGE), only itself."
    )
    async def members(self: Any, info: Info, first: int | None = 50, after: str | None = None) -> Connection[UserNode]:
        principal = await info.context.require_principal()
        limit = check_page(first, after, group_relations.MEMBER_KEYS)
        key = group_relations.MembersKey.of(principal, str(self.id), limit, after or None)
        return await info.context.loaders.of(group_relations.group_members).load(key)


@strawberry.input
class CreatePermissionGroupInput(GrantSetInput):
    all_locations: bool | None = True
    member_ids: list[strawberry.ID] | None = strawberry.field(default_factory=list)


@strawberry.input
class UpdatePermissionGroupInput(GrantSetChangesInput):
    add_member_ids: list[strawberry.ID] | None = strawberry.UNSET
    remove_member_ids: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.type
class PermissionGroupPayload(Payload, result="permission_group"):
    permission_group: PermissionGroup | None = None


@strawberry.type
class DeletePayload(Payload, result="deleted_id"):
    deleted_id: strawberry.ID | None = None


@strawberry.type
class Query:
    @strawberry.field(**at_most(ORGANIZATION_ROWS, read_access("The organization's permission groups, by name.")))
    async def permission_groups(self, info: Info) -> list[PermissionGroup]:
        return await groups.list_groups(info.context)  # type: ignore[return-value]

    @strawberry.field(**read_access("One permission group (null when unknown or another organization's)."))
    async def permission_group(self, info: Info, id: strawberry.ID) -> PermissionGroup | None:
        return await groups.get_group(info.context, id)  # type: ignore[return-value]


# Creating and changing a group may add grants: never more than the caller holds (resolvers/groups.py).
_adds = partial(requires, Permission.GROUPS_MANAGE, effects=(GrantEffect.ADDS,))


@strawberry.type
class Mutation:
    create_permission_group = strawberry.mutation(
        resolver=PermissionGroupPayload.resolver(CreatePermissionGroupInput, "group.create", groups.create_group),
        **_adds(description="Create a group; it may not hold (or give its members) what the caller does not hold."),
    )
    update_permission_group = strawberry.mutation(
        resolver=PermissionGroupPayload.resolver(UpdatePermissionGroupInput, "group.update", groups.update_group),
        **_adds(description="Change a group; whatever it adds to the group or its members must be the caller's."),
    )

    @strawberry.mutation(
        **requires(
            Permission.GROUPS_MANAGE,
            description="Delete a group; its members lose what it granted.",
            effects=(GrantEffect.NONE,),
        )
    )
    async def delete_permission_group(self, info: Info, id: strawberry.ID) -> DeletePayload:
        return await DeletePayload.run(info, "group.delete", groups.delete_group, id)
