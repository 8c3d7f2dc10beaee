"""Permission groups over GraphQL: create/update/delete, validation, cross-organization ids, the
audit events, and the reads (locations, memberCount, members paging and scoping, statement counts).
The no-escalation rule has its own module, test_groups_escalation.py."""

from __future__ import annotations

import uuid

import pytest

from models.audit import AuditEvent
from models.groups import GroupLocation, GroupMembership, PermissionGroup
from permissions.catalog import Permission as P
from tests.support import count_statements, error_codes, nodes, pages

GROUP_FIELDS = """id name description permissions allLocations locations { id name } memberCount
members { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id lastName } } }"""
CREATE = (
    "mutation($input: CreatePermissionGroupInput!) { createPermissionGroup(input: $input) { permissionGroup { "
    + GROUP_FIELDS
    + " } errors { field message code } } }"
)
UPDATE = (
    "mutation($input: UpdatePermissionGroupInput!) { updatePermissionGroup(input: $input) { permissionGroup { "
    + GROUP_FIELDS
    + " } errors { field message code } } }"
)
DELETE = "mutation($id: ID!) { deletePermissionGroup(id: $id) { deletedId errors { field code } } }"
ONE = "query($id: ID!) { permissionGroup(id: $id) { " + GROUP_FIELDS + " } }"
LIST = "{ permissionGroups { " + GROUP_FIELDS + " } }"
MEMBERS = """query($id: ID!, $first: Int, $after: String) { permissionGroup(id: $id) { memberCount
  members(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { lastName } } }
} }"""


def payload(body, name):
    assert error_codes(body) == [], body
    return body["data"][name]


def codes(body, name):
    return [(e["code"], e["field"]) for e in payload(body, name)["errors"]]


@pytest.fixture
async def clinic(factory, org_a, org_b):
    a1, a2 = org_a.locations
    return {"org": org_a, "b": org_b, "a1": a1, "a2": a2, "admin": org_a.admin}


async def test_admin_creates_a_restricted_group_with_members(gql, factory, clinic):
    org, a1 = clinic["org"], clinic["a1"]
    ada = await factory.user(org.organization, last_name="Lovelace", locations=[a1], session=False)
    body = await gql(
        CREATE,
        {
            "input": {
                "name": "  Front desk A1 ",
                "description": "Reception",
                "permissions": ["CLIENTS_READ", "USERS_READ", "CLIENTS_READ"],
                "allLocations": False,
                "locationIds": [str(a1.id)],
                "memberIds": [str(ada.user.id)],
            }
        },
        token=org.admin.token,
    )
    data = payload(body, "createPermissionGroup")
    assert data["errors"] == []
    group = data["permissionGroup"]
    assert group["name"] == "Front desk A1"
    assert group["permissions"] == ["USERS_READ", "CLIENTS_READ"]  # catalogue order, no duplicates
    assert group["allLocations"] is False
    assert [loc["id"] for loc in group["locations"]] == [str(a1.id)]
    assert group["memberCount"] == 1
    assert [e["node"]["lastName"] for e in group["members"]["edges"]] == ["Lovelace"]
    event = await AuditEvent.get(action="group.create", target_id=group["id"])
    assert event.actor_id == org.admin.user.id and event.target_type == "PermissionGroup"
    assert event.changes["name"] == [None, "Front desk A1"]
    assert event.changes["location_ids"] == [None, [str(a1.id)]]
    assert event.changes["member_ids"] == [None, [str(ada.user.id)]]


async def test_defaults_to_all_locations_without_members(gql, clinic):
    body = await gql(
        CREATE, {"input": {"name": "Everyone", "permissions": ["USERS_READ"]}}, token=clinic["admin"].token
    )
    group = payload(body, "createPermissionGroup")["permissionGroup"]
    assert group["allLocations"] is True and group["locations"] == [] and group["memberCount"] == 0
    assert group["members"] == {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": "  "}, ("REQUIRED", ["input", "name"])),
        ({"name": "x" * 101}, ("INVALID", ["input", "name"])),
        ({"allLocations": False}, ("REQUIRED", ["input", "locationIds"])),
        (
            {"permissions": ["GROUPS_MANAGE"], "allLocations": False, "locationIds": ["A1"]},
            ("INVALID", ["input", "permissions"]),
        ),
        ({"allLocations": True, "locationIds": ["A1"]}, ("INVALID", ["input", "locationIds"])),
        ({"allLocations": False, "locationIds": ["B1"]}, ("NOT_FOUND", ["input", "locationIds"])),
        ({"allLocations": False, "locationIds": ["not-a-uuid"]}, ("NOT_FOUND", ["input", "locationIds"])),
        ({"memberIds": ["B-ADMIN"]}, ("NOT_FOUND", ["input", "memberIds"])),
        ({"memberIds": [str(uuid.uuid4())]}, ("NOT_FOUND", ["input", "memberIds"])),
    ],
)
async def test_create_validation(gql, clinic, fields, expected):
    ids = {
        "A1": str(clinic["a1"].id),
        "B1": str(clinic["b"].locations[0].id),
        "B-ADMIN": str(clinic["b"].admin.user.id),
    }
    fields = {k: [ids.get(v, v) for v in val] if isinstance(val, list) else val for k, val in fields.items()}
    before = await PermissionGroup.all().count()
    body = await gql(
        CREATE, {"input": {"name": "Group", "permissions": ["USERS_READ"], **fields}}, token=clinic["admin"].token
    )
    assert expected in codes(body, "createPermissionGroup")
    assert payload(body, "createPermissionGroup")["permissionGroup"] is None
    assert await PermissionGroup.all().count() == before


async def test_names_are_unique_per_organization_regardless_of_case(gql, factory, clinic):
    await factory.group(clinic["org"].organization, [P.USERS_READ], name="Reception")
    await factory.group(clinic["b"].organization, [P.USERS_READ], name="Billing team")
    token = clinic["admin"].token
    body = await gql(CREATE, {"input": {"name": "RECEPTION", "permissions": []}}, token=token)
    assert codes(body, "createPermissionGroup") == [("DUPLICATE", ["input", "name"])]
    body = await gql(CREATE, {"input": {"name": "billing TEAM", "permissions": []}}, token=token)
    assert payload(body, "createPermissionGroup")["errors"] == []  # another organization's name is free
    other = await factory.group(clinic["org"].organization, [], name="Other")
    body = await gql(UPDATE, {"input": {"id": str(other.id), "name": "reception"}}, token=token)
    assert codes(body, "updatePermissionGroup") == [("DUPLICATE", ["input", "name"])]
    body = await gql(UPDATE, {"input": {"id": str(other.id), "name": "OTHER"}}, token=token)  # its own name
    assert payload(body, "updatePermissionGroup")["permissionGroup"]["name"] == "OTHER"


async def test_update_fields_locations_and_members_with_audit(gql, factory, clinic):
    org, a1, a2 = clinic["org"], clinic["a1"], clinic["a2"]
    group = await factory.group(org.organization, [P.USERS_READ], name="Team", locations=[a1])
    stays = await factory.user(org.organization, last_name="Stays", locations=[a1], groups=[group], session=False)
    leaves = await factory.user(org.organization, last_name="Leaves", locations=[a1], groups=[group], session=False)
    joins = await factory.user(org.organization, last_name="Joins", locations=[a2], session=False)
    body = await gql(
        UPDATE,
        {
            "input": {
                "id": str(group.id),
                "name": "Team A2",
                "description": "Moved",
                "permissions": ["USERS_READ", "CLIENTS_READ"],
                "locationIds": [str(a2.id)],
                "addMemberIds": [str(joins.user.id), str(stays.user.id)],
                "removeMemberIds": [str(leaves.user.id)],
            }
        },
        token=org.admin.token,
    )
    data = payload(body, "updatePermissionGroup")
    assert data["errors"] == []
    updated = data["permissionGroup"]
    assert updated["name"] == "Team A2" and updated["description"] == "Moved"
    assert updated["permissions"] == ["USERS_READ", "CLIENTS_READ"]
    assert [loc["id"] for loc in updated["locations"]] == [str(a2.id)]
    assert [e["node"]["lastName"] for e in updated["members"]["edges"]] == ["Joins", "Stays"]
    assert await GroupLocation.filter(group_id=group.id).count() == 1
    row = await PermissionGroup.get(id=group.id)
    assert row.version == 2
    event = await AuditEvent.get(action="group.update", target_id=group.id)
    assert event.changes["name"] == ["Team", "Team A2"]
    assert event.changes["permissions"] == [["USERS_READ"], ["USERS_READ", "CLIENTS_READ"]]
    assert event.changes["location_ids"] == [[str(a1.id)], [str(a2.id)]]
    assert event.changes["members_added"] == [None, [str(joins.user.id)]]
    assert event.changes["members_removed"] == [[str(leaves.user.id)], None]

    # Unrestricting drops the locations; leaving fields out leaves them alone; null clears the description.
    body = await gql(
        UPDATE, {"input": {"id": str(group.id), "allLocations": True, "description": None}}, token=org.admin.token
    )
    updated = payload(body, "updatePermissionGroup")["permissionGroup"]
    assert updated["allLocations"] is True and updated["locations"] == [] and updated["description"] is None
    assert updated["name"] == "Team A2" and updated["memberCount"] == 2


async def test_update_validation(gql, factory, clinic):
    org = clinic["org"]
    group = await factory.group(org.organization, [P.USERS_READ], name="Team")
    user = await factory.user(org.organization, locations=[clinic["a1"]], session=False)
    token = org.admin.token

    async def errors(**fields):
        body = await gql(UPDATE, {"input": {"id": str(group.id), **fields}}, token=token)
        return codes(body, "updatePermissionGroup")

    uid = str(user.user.id)
    assert ("INVALID", ["input", "removeMemberIds"]) in await errors(addMemberIds=[uid], removeMemberIds=[uid])
    assert await errors(allLocations=False) == [("REQUIRED", ["input", "locationIds"])]
    assert await errors(locationIds=[str(clinic["a1"].id)]) == [("INVALID", ["input", "locationIds"])]
    assert await errors(name="") == [("REQUIRED", ["input", "name"])]
    assert await errors(addMemberIds=[str(clinic["b"].admin.user.id)]) == [("NOT_FOUND", ["input", "addMemberIds"])]
    assert await GroupMembership.filter(group_id=group.id).count() == 0
    assert (await PermissionGroup.get(id=group.id)).version == 1


@pytest.mark.parametrize("which", ["other org", "random", "malformed"])
async def test_unknown_and_other_organization_groups_are_not_found(gql, factory, clinic, which):
    theirs = await factory.group(clinic["b"].organization, [P.USERS_READ], name="Theirs")
    gid = {"other org": str(theirs.id), "random": str(uuid.uuid4()), "malformed": "nope"}[which]
    token = clinic["admin"].token
    body = await gql(UPDATE, {"input": {"id": gid, "name": "Mine now"}}, token=token)
    assert codes(body, "updatePermissionGroup") == [("NOT_FOUND", ["input", "id"])]
    body = await gql(DELETE, {"id": gid}, token=token)
    assert payload(body, "deletePermissionGroup") == {
        "deletedId": None,
        "errors": [{"field": ["id"], "code": "NOT_FOUND"}],
    }
    body = await gql(ONE, {"id": gid}, token=token)
    assert error_codes(body) == [] and body["data"]["permissionGroup"] is None
    assert (await PermissionGroup.get(id=theirs.id)).name == "Theirs"


async def test_list_is_the_organizations_groups_by_name(gql, factory, clinic):
    await factory.group(clinic["org"].organization, [], name="beta")
    await factory.group(clinic["org"].organization, [], name="Alpha")
    await factory.group(clinic["b"].organization, [], name="Aardvark")
    body = await gql(LIST, token=clinic["admin"].token)
    assert [g["name"] for g in body["data"]["permissionGroups"]] == ["Alpha", "beta"]


async def test_delete_removes_the_group_and_its_grants(gql, factory, clinic):
    org, a1 = clinic["org"], clinic["a1"]
    group = await factory.group(org.organization, [P.USERS_READ, P.USERS_MANAGE], name="Managers", locations=[a1])
    member = await factory.user(org.organization, locations=[a1], groups=[group])
    viewer = "{ viewer { permissions { permission } } }"
    body = await gql(viewer, token=member.token)
    assert {p["permission"] for p in body["data"]["viewer"]["permissions"]} == {"USERS_READ", "USERS_MANAGE"}
    body = await gql(DELETE, {"id": str(group.id)}, token=org.admin.token)
    assert payload(body, "deletePermissionGroup") == {"deletedId": str(group.id), "errors": []}
    assert not await PermissionGroup.exists(id=group.id)
    assert await GroupMembership.filter(group_id=group.id).count() == 0
    assert await GroupLocation.filter(group_id=group.id).count() == 0
    body = await gql(viewer, token=member.token)  # the very next request
    assert body["data"]["viewer"]["permissions"] == []
    event = await AuditEvent.get(action="group.delete", target_id=group.id)
    assert event.changes["name"] == ["Managers", None]
    assert event.changes["member_ids"] == [[str(member.user.id)], None]


async def test_reading_groups_needs_groups_manage_or_users_manage(gql, factory, clinic):
    org, a1 = clinic["org"], clinic["a1"]
    managers = await factory.group(org.organization, [P.USERS_READ, P.USERS_MANAGE], locations=[a1])
    readers = await factory.group(org.organization, [P.USERS_READ])
    manager = await factory.user(org.organization, locations=[a1], groups=[managers])
    reader = await factory.user(org.organization, locations=[a1], groups=[readers])
    assert error_codes(await gql(LIST, token=manager.token)) == []
    assert error_codes(await gql(LIST, token=reader.token)) == ["FORBIDDEN"]
    assert error_codes(await gql(ONE, {"id": str(readers.id)}, token=reader.token)) == ["FORBIDDEN"]
    body = await gql(CREATE, {"input": {"name": "X", "permissions": []}}, token=manager.token)
    assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None


async def test_locations_show_only_those_the_viewer_may_see(gql, factory, clinic):
    org, a1, a2 = clinic["org"], clinic["a1"], clinic["a2"]
    group = await factory.group(org.organization, [P.USERS_READ], name="Both", locations=[a1, a2])
    managers = await factory.group(org.organization, [P.USERS_MANAGE], locations=[a1])
    manager = await factory.user(org.organization, locations=[a1], groups=[managers])
    body = await gql(ONE, {"id": str(group.id)}, token=manager.token)
    assert [loc["id"] for loc in body["data"]["permissionGroup"]["locations"]] == [str(a1.id)]


async def test_members_are_paged_by_name_and_scoped_to_the_viewer(gql, factory, clinic):
    org, a1, a2 = clinic["org"], clinic["a1"], clinic["a2"]
    group = await factory.group(org.organization, [P.PROVIDERS_READ], name="Big")
    for last, sites, everywhere in [
        ("Young", [a1], False),
        ("Adams", [a2], False),
        ("Brown", [a1], False),
        ("Clark", [], True),
        ("Brown", [a2], False),
    ]:
        await factory.user(
            org.organization, last_name=last, locations=sites, all_locations=everywhere, groups=[group], session=False
        )
    readers = await factory.group(org.organization, [P.USERS_READ, P.USERS_MANAGE], locations=[a1])
    viewer = await factory.user(org.organization, last_name="Viewer", locations=[a1], groups=[readers])

    got = await pages(
        gql, MEMBERS, {"id": str(group.id), "first": 2}, "permissionGroup", "members", token=org.admin.token
    )
    assert all(page["totalCount"] == 5 for page in got)
    assert nodes(got, "lastName") == ["Adams", "Brown", "Brown", "Clark", "Young"]

    body = await gql(MEMBERS, {"id": str(group.id), "first": 10}, token=viewer.token)
    seen = body["data"]["permissionGroup"]
    assert [e["node"]["lastName"] for e in seen["members"]["edges"]] == ["Brown", "Clark", "Young"]
    assert seen["members"]["totalCount"] == 3
    assert seen["memberCount"] == 3, "members out of the viewer's scope are not counted either"

    body = await gql(MEMBERS, {"id": str(group.id), "first": 0}, token=org.admin.token)
    assert body["data"]["permissionGroup"]["members"]["edges"] == []
    assert body["data"]["permissionGroup"]["members"]["totalCount"] == 5


@pytest.mark.parametrize("args", [{"first": 101}, {"first": -1}, {"after": "not a cursor"}])
async def test_members_bad_paging_is_bad_user_input(gql, factory, clinic, args):
    group = await factory.group(clinic["org"].organization, [], name="G")
    body = await gql(MEMBERS, {"id": str(group.id), **args}, token=clinic["admin"].token)
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_listing_groups_with_members_costs_a_fixed_number_of_statements(gql, factory, clinic):
    org, a1, a2 = clinic["org"], clinic["a1"], clinic["a2"]

    async def add_groups(n):
        for i in range(n):
            group = await factory.group(org.organization, [P.USERS_READ], locations=[a1, a2] if i % 2 else None)
            for _ in range(2):
                await factory.user(org.organization, locations=[a1], groups=[group], session=False)

    await add_groups(2)
    with count_statements() as few:
        body = await gql(LIST, token=org.admin.token)
    assert len(body["data"]["permissionGroups"]) == 2
    await add_groups(4)
    with count_statements() as many:
        body = await gql(LIST, token=org.admin.token)
    assert len(body["data"]["permissionGroups"]) == 6
    assert all(g["members"]["totalCount"] == 2 for g in body["data"]["permissionGroups"])
    assert len(many) == len(few), many
