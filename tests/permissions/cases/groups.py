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
from tests.permissions.cases.base import fixed, location_id, rows
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
    *rows(
        "permissionGroups",
        ("all groups", "admin_a", "org A groups", OK, fixed(LIST), names_include("Front desk", "Theirs")),
        ("assigns groups", "manager_a1", "org A groups", OK, fixed(LIST)),
        ("groups manager", "groups_admin_a", "org A groups", OK, fixed(LIST)),
        ("other org sees its own", "admin_b", "org B groups", OK, fixed(LIST), names_are("Theirs")),
        ("USERS_READ only", "front_desk_a1", "org A groups", FORBIDDEN, fixed(LIST)),
        ("no group", "no_group", "org A groups", FORBIDDEN, fixed(LIST)),
        ("no token", "anonymous", "org A groups", UNAUTHENTICATED, fixed(LIST)),
    ),
    # permissionGroup
    *rows(
        "permissionGroup",
        ("own org group", "admin_a", "Front desk", OK, one("Front desk")),
        ("assigns groups", "restricted_a2", "Only A2", OK, one("Only A2")),
        ("other org's group", "admin_b", "Front desk (org A)", HIDDEN, one("Front desk")),
        ("random id", "admin_a", "random", HIDDEN, one(None)),
        ("no group", "no_group", "Front desk", FORBIDDEN, one("Front desk")),
        ("billing staff", "billing_a1", "Billing", FORBIDDEN, one("Billing")),
        ("no token", "anonymous", "Front desk", UNAUTHENTICATED, one("Front desk")),
    ),
    # createPermissionGroup: GROUPS_MANAGE (org-wide), and no-escalation.
    *rows(
        "createPermissionGroup",
        ("admin, anything", "admin_a", "new group", OK, create("BILLING_MANAGE", "AUDIT_READ")),
        (
            "within own grants",
            "groups_admin_a",
            "new group at A1",
            OK,
            create("CLIENTS_READ", all_locations=False, location="a1", member="front_desk_a1"),
        ),
        (
            "a permission one lacks",
            "groups_admin_a",
            "new group",
            DENIED_INPUT,
            create("BILLING_READ"),
            refused_field("permissions"),
        ),
        (
            "unrestricted without org-wide rights",
            "groups_admin_a",
            "new group",
            DENIED_INPUT,
            create("CLIENTS_READ"),
            refused_field("allLocations"),
        ),
        (
            "a location outside own grants",
            "groups_admin_a",
            "new group at A2",
            DENIED_INPUT,
            create("CLIENTS_READ", all_locations=False, location="a2"),
            refused_field("locationIds"),
        ),
        (
            "another org's location",
            "admin_b",
            "new group at A1",
            NOT_FOUND,
            create("USERS_READ", all_locations=False, location="a1"),
        ),
        ("no GROUPS_MANAGE", "manager_a1", "new group", FORBIDDEN, create("USERS_READ")),
        ("GROUPS_MANAGE missing", "restricted_a2", "new group", FORBIDDEN, create()),
        ("no group", "no_group", "new group", FORBIDDEN, create()),
        ("no token", "anonymous", "new group", UNAUTHENTICATED, create()),
    ),
    # updatePermissionGroup
    *rows(
        "updatePermissionGroup",
        ("admin widens", "admin_a", "Manager A1", OK, update("Manager A1", allLocations=True, add=["no_group"])),
        ("rename adds nothing", "groups_admin_a", "Billing", OK, update("Billing", name="Billing office")),
        (
            "a member gaining only own grants",
            "groups_admin_a",
            "Clients A1",
            OK,
            update("Clients A1", add=["manager_a1"]),
        ),
        (
            "a location outside own grants",
            "groups_admin_a",
            "Clients A1",
            DENIED_INPUT,
            update("Clients A1", locations=["a1", "a2"]),
            refused_field("locationIds"),
        ),
        (
            "unrestricted without org-wide rights",
            "groups_admin_a",
            "Clients A1",
            DENIED_INPUT,
            update("Clients A1", allLocations=True),
            refused_field("allLocations"),
        ),
        (
            "a permission one lacks",
            "groups_admin_a",
            "Clients A1",
            DENIED_INPUT,
            update("Clients A1", permissions=["CLIENTS_READ", "CLIENTS_COVERAGE_READ"]),
            refused_field("permissions"),
        ),
        (
            "a member wider than oneself",
            "groups_admin_a",
            "Front desk",
            DENIED_INPUT,
            update("Front desk", add=["no_group"]),
            refused_field("addMemberIds"),
        ),
        ("another org's group", "admin_b", "Front desk", NOT_FOUND, update("Front desk", name="X")),
        ("no GROUPS_MANAGE", "manager_a1", "Manager A1", FORBIDDEN, update("Manager A1", name="X")),
        ("GROUPS_MANAGE missing", "restricted_a2", "Only A2", FORBIDDEN, update("Only A2", name="X")),
        ("no group", "no_group", "Front desk", FORBIDDEN, update("Front desk", name="X")),
        ("no token", "anonymous", "Front desk", UNAUTHENTICATED, update("Front desk", name="X")),
    ),
    # deletePermissionGroup: removes grants only.
    *rows(
        "deletePermissionGroup",
        ("admin", "admin_a", "Billing", OK, delete("Billing")),
        ("beyond own grants", "groups_admin_a", "Front desk", OK, delete("Front desk")),
        ("another org's group", "admin_b", "Billing", NOT_FOUND, delete("Billing")),
        ("own org, other's id", "admin_a", "Theirs (org B)", NOT_FOUND, delete("Theirs")),
        ("no GROUPS_MANAGE", "manager_a1", "Manager A1", FORBIDDEN, delete("Manager A1")),
        ("no group", "no_group", "Billing", FORBIDDEN, delete("Billing")),
        ("no token", "anonymous", "Billing", UNAUTHENTICATED, delete("Billing")),
    ),
]
