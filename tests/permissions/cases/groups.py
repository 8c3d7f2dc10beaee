"""Matrix rows for permission groups: the two reads and create/update/delete.

The world gains (`add_group_targets`) org B's group "Theirs" and the principal `groups_admin_a`:
working everywhere, GROUPS_MANAGE and USERS_READ everywhere (an unrestricted group), CLIENTS_READ
at A1 only (a group restricted to A1), so it may manage groups but not give what it lacks.
"""

from __future__ import annotations

import uuid

from models.groups import PermissionGroup
from permissions.catalog import Permission as P
from tests.factories import Factory
from tests.permissions.cases.base import Case, fixed, location_id
from tests.permissions.cases.expect import DENIED_INPUT, FORBIDDEN, HIDDEN, NOT_FOUND, OK, UNAUTHENTICATED
from tests.permissions.world import World, WorldStep


async def add_group_targets(world: World, factory: Factory) -> None:
    a = world.a.organization
    managers = await factory.group(a, [P.GROUPS_MANAGE, P.USERS_READ], name="Group managers")
    clients_a1 = await factory.group(a, [P.CLIENTS_READ], name="Clients A1", locations=[world.a1])
    world.principals["groups_admin_a"] = await factory.user(
        a, username="groupsadmin", all_locations=True, groups=[managers, clients_a1]
    )
    world.extra["theirs"] = await factory.group(world.b.organization, [P.USERS_READ], name="Theirs")


async def _gid(w: World, name: str) -> str:
    return str((await PermissionGroup.get(organization_id=w.a.organization.id, name=name)).id)


LIST = "{ permissionGroups { id name permissions memberCount } }"
ONE = "query($id: ID!) { permissionGroup(id: $id) { id name locations { id } members { totalCount } } }"
CREATE = (
    "mutation($i: CreatePermissionGroupInput!) { createPermissionGroup(input: $i) {"
    " permissionGroup { id name } errors { field code } } }"
)
UPDATE = (
    "mutation($i: UpdatePermissionGroupInput!) { updatePermissionGroup(input: $i) {"
    " permissionGroup { id name } errors { field code } } }"
)
DELETE = "mutation($id: ID!) { deletePermissionGroup(id: $id) { deletedId errors { field code } } }"

# Group ids are looked up by name when the row runs; `document` is sync, so the lookup is deferred
# to a placeholder that `_resolve` fills from the world built for the row.
_NAMES_A = ("Front desk", "Only A2", "Billing", "Manager A1", "Clients A1")


def _ids(w: World) -> dict[str, str]:
    ids = w.extra.get("group_ids")
    if ids is None:
        raise AssertionError("add_group_ids did not run")
    return ids


async def add_group_ids(world: World, factory: Factory) -> None:
    world.extra["group_ids"] = {name: await _gid(world, name) for name in _NAMES_A}
    world.extra["group_ids"]["Theirs"] = str(world.extra["theirs"].id)


WORLD = (
    WorldStep(add_group_targets, adds=("groups_admin_a", "theirs")),
    WorldStep(add_group_ids, adds=("group_ids",), needs=("theirs",)),
)


def one(name: str | None):
    return lambda w: (ONE, {"id": _ids(w)[name] if name else str(uuid.uuid4())})


def create(*permissions: str, all_locations: bool = True, location: str | None = None, member: str | None = None):
    def build(w: World):
        given: dict = {"name": "Matrix group", "permissions": list(permissions), "allLocations": all_locations}
        if location:
            given["locationIds"] = [location_id(w, location)]
        if member:
            given["memberIds"] = [str(w.principals[member].user.id)]
        return CREATE, {"i": given}

    return build


def update(group: str, **fields):
    def build(w: World):
        given = {"id": _ids(w)[group]}
        for key, value in fields.items():
            if key == "locations":
                given["locationIds"] = [location_id(w, v) for v in value]
            elif key == "add":
                given["addMemberIds"] = [str(w.principals[v].user.id) for v in value]
            else:
                given[key] = value
        return UPDATE, {"i": given}

    return build


def delete(name: str):
    return lambda w: (DELETE, {"id": _ids(w)[name]})


def names_are(*expected: str):
    def check(w, data):
        assert sorted(g["name"] for g in data) == sorted(expected)

    return check


def names_include(name: str, absent: str):
    def check(w, data):
        names = {g["name"] for g in data}
        assert name in names and absent not in names

    return check


def refused_field(field: str):
    def check(w, data):
        assert [e["field"] for e in data["errors"]] == [["input", field]]

    return check


CASES = [
    # permissionGroups: GROUPS_MANAGE or USERS_MANAGE; one's own organization's groups only.
    Case(
        "all groups",
        "permissionGroups",
        "admin_a",
        "org A groups",
        OK,
        fixed(LIST),
        names_include("Front desk", "Theirs"),
    ),
    Case("assigns groups", "permissionGroups", "manager_a1", "org A groups", OK, fixed(LIST)),
    Case("groups manager", "permissionGroups", "groups_admin_a", "org A groups", OK, fixed(LIST)),
    Case("other org sees its own", "permissionGroups", "admin_b", "org B groups", OK, fixed(LIST), names_are("Theirs")),
    Case("USERS_READ only", "permissionGroups", "front_desk_a1", "org A groups", FORBIDDEN, fixed(LIST)),
    Case("no group", "permissionGroups", "no_group", "org A groups", FORBIDDEN, fixed(LIST)),
    Case("no token", "permissionGroups", "anonymous", "org A groups", UNAUTHENTICATED, fixed(LIST)),
    # permissionGroup
    Case("own org group", "permissionGroup", "admin_a", "Front desk", OK, one("Front desk")),
    Case("assigns groups", "permissionGroup", "restricted_a2", "Only A2", OK, one("Only A2")),
    Case("other org's group", "permissionGroup", "admin_b", "Front desk (org A)", HIDDEN, one("Front desk")),
    Case("random id", "permissionGroup", "admin_a", "random", HIDDEN, one(None)),
    Case("no group", "permissionGroup", "no_group", "Front desk", FORBIDDEN, one("Front desk")),
    Case("billing staff", "permissionGroup", "billing_a1", "Billing", FORBIDDEN, one("Billing")),
    Case("no token", "permissionGroup", "anonymous", "Front desk", UNAUTHENTICATED, one("Front desk")),
    # createPermissionGroup: GROUPS_MANAGE (org-wide), and no-escalation.
    Case(
        "admin, anything", "createPermissionGroup", "admin_a", "new group", OK, create("BILLING_MANAGE", "AUDIT_READ")
    ),
    Case(
        "within own grants",
        "createPermissionGroup",
        "groups_admin_a",
        "new group at A1",
        OK,
        create("CLIENTS_READ", all_locations=False, location="a1", member="front_desk_a1"),
    ),
    Case(
        "a permission one lacks",
        "createPermissionGroup",
        "groups_admin_a",
        "new group",
        DENIED_INPUT,
        create("BILLING_READ"),
        refused_field("permissions"),
    ),
    Case(
        "unrestricted without org-wide rights",
        "createPermissionGroup",
        "groups_admin_a",
        "new group",
        DENIED_INPUT,
        create("CLIENTS_READ"),
        refused_field("allLocations"),
    ),
    Case(
        "a location outside own grants",
        "createPermissionGroup",
        "groups_admin_a",
        "new group at A2",
        DENIED_INPUT,
        create("CLIENTS_READ", all_locations=False, location="a2"),
        refused_field("locationIds"),
    ),
    Case(
        "another org's location",
        "createPermissionGroup",
        "admin_b",
        "new group at A1",
        NOT_FOUND,
        create("USERS_READ", all_locations=False, location="a1"),
    ),
    Case("no GROUPS_MANAGE", "createPermissionGroup", "manager_a1", "new group", FORBIDDEN, create("USERS_READ")),
    Case("GROUPS_MANAGE missing", "createPermissionGroup", "restricted_a2", "new group", FORBIDDEN, create()),
    Case("no group", "createPermissionGroup", "no_group", "new group", FORBIDDEN, create()),
    Case("no token", "createPermissionGroup", "anonymous", "new group", UNAUTHENTICATED, create()),
    # updatePermissionGroup
    Case(
        "admin widens",
        "updatePermissionGroup",
        "admin_a",
        "Manager A1",
        OK,
        update("Manager A1", allLocations=True, add=["no_group"]),
    ),
    Case(
        "rename adds nothing",
        "updatePermissionGroup",
        "groups_admin_a",
        "Billing",
        OK,
        update("Billing", name="Billing office"),
    ),
    Case(
        "a member gaining only own grants",
        "updatePermissionGroup",
        "groups_admin_a",
        "Clients A1",
        OK,
        update("Clients A1", add=["manager_a1"]),
    ),
    Case(
        "a location outside own grants",
        "updatePermissionGroup",
        "groups_admin_a",
        "Clients A1",
        DENIED_INPUT,
        update("Clients A1", locations=["a1", "a2"]),
        refused_field("locationIds"),
    ),
    Case(
        "unrestricted without org-wide rights",
        "updatePermissionGroup",
        "groups_admin_a",
        "Clients A1",
        DENIED_INPUT,
        update("Clients A1", allLocations=True),
        refused_field("allLocations"),
    ),
    Case(
        "a permission one lacks",
        "updatePermissionGroup",
        "groups_admin_a",
        "Clients A1",
        DENIED_INPUT,
        update("Clients A1", permissions=["CLIENTS_READ", "CLIENTS_COVERAGE_READ"]),
        refused_field("permissions"),
    ),
    Case(
        "a member wider than oneself",
        "updatePermissionGroup",
        "groups_admin_a",
        "Front desk",
        DENIED_INPUT,
        update("Front desk", add=["no_group"]),
        refused_field("addMemberIds"),
    ),
    Case(
        "another org's group",
        "updatePermissionGroup",
        "admin_b",
        "Front desk",
        NOT_FOUND,
        update("Front desk", name="X"),
    ),
    Case(
        "no GROUPS_MANAGE",
        "updatePermissionGroup",
        "manager_a1",
        "Manager A1",
        FORBIDDEN,
        update("Manager A1", name="X"),
    ),
    Case(
        "GROUPS_MANAGE missing",
        "updatePermissionGroup",
        "restricted_a2",
        "Only A2",
        FORBIDDEN,
        update("Only A2", name="X"),
    ),
    Case("no group", "updatePermissionGroup", "no_group", "Front desk", FORBIDDEN, update("Front desk", name="X")),
    Case(
        "no token", "updatePermissionGroup", "anonymous", "Front desk", UNAUTHENTICATED, update("Front desk", name="X")
    ),
    # deletePermissionGroup: removes grants only.
    Case("admin", "deletePermissionGroup", "admin_a", "Billing", OK, delete("Billing")),
    Case("beyond own grants", "deletePermissionGroup", "groups_admin_a", "Front desk", OK, delete("Front desk")),
    Case("another org's group", "deletePermissionGroup", "admin_b", "Billing", NOT_FOUND, delete("Billing")),
    Case("own org, other's id", "deletePermissionGroup", "admin_a", "Theirs (org B)", NOT_FOUND, delete("Theirs")),
    Case("no GROUPS_MANAGE", "deletePermissionGroup", "manager_a1", "Manager A1", FORBIDDEN, delete("Manager A1")),
    Case("no group", "deletePermissionGroup", "no_group", "Billing", FORBIDDEN, delete("Billing")),
    Case("no token", "deletePermissionGroup", "anonymous", "Billing", UNAUTHENTICATED, delete("Billing")),
]
