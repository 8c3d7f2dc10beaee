"""Matrix rows for permission groups: the two reads and create/update/delete.

The world gains (`add_group_targets`) org B's group "Theirs" and the principal `groups_admin_a`:
working everywhere, GROUPS_MANAGE and USERS_READ everywhere (an unrestricted group), CLIENTS_READ
at A1 only (a group restricted to A1), so it may manage groups but not give what it lacks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from models.groups import PermissionGroup
from permissions.catalog import Permission as P
from tests.factories import Factory
from tests.permissions.cases.base import Row, fixed, location_id, no_token, rows
from tests.permissions.cases.expect import DENIED_INPUT, FORBIDDEN, HIDDEN, NOT_FOUND, OK
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


def refusing(document: Callable[[str], Any], group: str, *more: Row) -> list[Row]:
    """updatePermissionGroup and deletePermissionGroup alike: refused to another organization's admin
    (NOT_FOUND), without GROUPS_MANAGE, with no group and with no token. `document(name)` aims at one of
    org A's groups; `group` is the one most rows aim at. `more` stand before the no-group row."""
    return [
        ("another org's group", "admin_b", group, NOT_FOUND, document(group)),
        ("no GROUPS_MANAGE", "manager_a1", "Manager A1", FORBIDDEN, document("Manager A1")),
        *more,
        ("no group", "no_group", group, FORBIDDEN, document(group)),
        no_token(group, document(group)),
    ]


def refused(case: str, target: str, document: Any, field: str) -> Row:
    """groups_admin_a (GROUPS_MANAGE everywhere, CLIENTS_READ at A1 only) asks for more than it holds:
    DENIED_INPUT, the error naming the input `field`."""
    return (case, "groups_admin_a", target, DENIED_INPUT, document, refused_field(field))


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
        no_token("org A groups", fixed(LIST)),
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
        no_token("Front desk", one("Front desk")),
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
        # Giving others "My Clients" reaches clients one's own would not: it needs CLIENTS_READ there.
        (
            "My Clients where one reads all clients",
            "groups_admin_a",
            "new group at A1",
            OK,
            create("CLIENTS_READ_OWN", all_locations=False, location="a1"),
        ),
        refused(
            "My Clients where one does not",
            "new group at A2",
            create("CLIENTS_READ_OWN", all_locations=False, location="a2"),
            "locationIds",
        ),
        refused("a permission one lacks", "new group", create("BILLING_READ"), "permissions"),
        refused("unrestricted without org-wide rights", "new group", create("CLIENTS_READ"), "allLocations"),
        refused(
            "a location outside own grants",
            "new group at A2",
            create("CLIENTS_READ", all_locations=False, location="a2"),
            "locationIds",
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
        no_token("new group", create()),
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
        refused(
            "a location outside own grants", "Clients A1", update("Clients A1", locations=["a1", "a2"]), "locationIds"
        ),
        refused(
            "unrestricted without org-wide rights",
            "Clients A1",
            update("Clients A1", allLocations=True),
            "allLocations",
        ),
        refused(
            "a permission one lacks",
            "Clients A1",
            update("Clients A1", permissions=["CLIENTS_READ", "CLIENTS_COVERAGE_READ"]),
            "permissions",
        ),
        refused("a member wider than oneself", "Front desk", update("Front desk", add=["no_group"]), "addMemberIds"),
        *refusing(
            partial(update, name="X"),
            "Front desk",
            ("GROUPS_MANAGE missing", "restricted_a2", "Only A2", FORBIDDEN, update("Only A2", name="X")),
        ),
    ),
    # deletePermissionGroup: removes grants only.
    *rows(
        "deletePermissionGroup",
        ("admin", "admin_a", "Billing", OK, delete("Billing")),
        ("beyond own grants", "groups_admin_a", "Front desk", OK, delete("Front desk")),
        *refusing(
            delete,
            "Billing",
            ("own org, other's id", "admin_a", "Theirs (org B)", NOT_FOUND, delete("Theirs")),
        ),
    ),
]
