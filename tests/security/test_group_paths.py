"""Permission groups: no one gives what they do not have; other organizations' ids are missing;
nested members and locations stay within the viewer's scope."""

from __future__ import annotations

from models.groups import GroupMembership, PermissionGroup
from permissions.catalog import Permission as P
from tests.factories import Factory, Org
from tests.support import GQL, payload_codes

UPDATE = """mutation ($input: UpdatePermissionGroupInput!) { updatePermissionGroup(input: $input) {
  errors { code field } } }"""
CREATE = """mutation ($input: CreatePermissionGroupInput!) { createPermissionGroup(input: $input) {
  permissionGroup { id } errors { code field } } }"""


async def test_group_changes_cannot_escalate(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    own = await factory.group(org_a.organization, [P.GROUPS_MANAGE, P.USERS_READ, P.CLIENTS_READ])
    actor = await factory.user(org_a.organization, username="gm", locations=[a1, a2], groups=[own])
    narrow = await factory.group(org_a.organization, [P.CLIENTS_READ], locations=[a1])
    member = await factory.user(org_a.organization, username="mem", locations=[a1, a2], groups=[narrow])
    outsider = await factory.user(org_a.organization, username="out", locations=[a1])
    strong = await factory.group(org_a.organization, [P.CLIENTS_MANAGE])
    for change, field in (
        ({"permissions": ["CLIENTS_READ", "CLIENTS_MANAGE"]}, "permissions"),
        ({"permissions": ["AUDIT_READ"], "allLocations": True}, "permissions"),
        ({"addMemberIds": [str(outsider.user.id)], "id": str(strong.id)}, "addMemberIds"),
    ):
        body = await gql(UPDATE, {"input": {"id": str(narrow.id), **change}}, token=actor.token)
        errors = body["data"]["updatePermissionGroup"]["errors"]
        assert [e["code"] for e in errors] == ["FORBIDDEN"], (change, body)
        assert errors[0]["field"] == ["input", field], (change, errors)
    body = await gql(
        CREATE,
        {"input": {"name": "Sneaky", "permissions": ["USERS_MANAGE"], "memberIds": [str(actor.user.id)]}},
        token=actor.token,
    )
    assert set(payload_codes(body["data"]["createPermissionGroup"])) == {"FORBIDDEN"}
    assert not await PermissionGroup.filter(name="Sneaky").exists()
    assert not await GroupMembership.filter(user_id=outsider.user.id).exists()
    assert await GroupMembership.filter(user_id=member.user.id).count() == 1


async def test_other_organizations_ids_in_group_inputs(gql: GQL, factory: Factory, org_a: Org, org_b: Org) -> None:
    theirs = await factory.group(org_b.organization, [P.USERS_READ])
    their_user = await factory.user(org_b.organization, username="bee", locations=[org_b.locations[0]])
    mine = await factory.group(org_a.organization, [P.USERS_READ], locations=[org_a.locations[0]])
    token = org_a.admin.token
    body = await gql("query ($id: ID!) { permissionGroup(id: $id) { id } }", {"id": str(theirs.id)}, token=token)
    assert body["data"]["permissionGroup"] is None
    for change, field in (
        ({"locationIds": [str(org_b.locations[0].id)]}, "locationIds"),
        ({"addMemberIds": [str(their_user.user.id)]}, "addMemberIds"),
        ({"removeMemberIds": [str(their_user.user.id)]}, "removeMemberIds"),
    ):
        body = await gql(UPDATE, {"input": {"id": str(mine.id), **change}}, token=token)
        assert body["data"]["updatePermissionGroup"]["errors"] == [{"code": "NOT_FOUND", "field": ["input", field]}]
    body = await gql(UPDATE, {"input": {"id": str(theirs.id), "name": "Mine now"}}, token=token)
    assert payload_codes(body["data"]["updatePermissionGroup"]) == ["NOT_FOUND"]
    body = await gql(
        "mutation ($id: ID!) { deletePermissionGroup(id: $id) { errors { code } } }",
        {"id": str(theirs.id)},
        token=token,
    )
    assert payload_codes(body["data"]["deletePermissionGroup"]) == ["NOT_FOUND"]
    assert await PermissionGroup.filter(id=theirs.id).exists()


async def test_group_members_and_locations_are_scoped(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    own = await factory.group(org_a.organization, [P.USERS_READ, P.USERS_MANAGE], locations=[a1])
    viewer = await factory.user(org_a.organization, username="v", locations=[a1], groups=[own])
    group = await factory.group(org_a.organization, [P.CLIENTS_READ], locations=[a1, a2])
    seen = await factory.user(org_a.organization, username="seen", locations=[a1], groups=[group])
    await factory.user(org_a.organization, username="hidden", locations=[a2], groups=[group])
    body = await gql(
        "query ($id: ID!) { permissionGroup(id: $id) { locations { id }"
        " members { totalCount edges { node { id } } } } }",
        {"id": str(group.id)},
        token=viewer.token,
    )
    shown = body["data"]["permissionGroup"]
    assert shown["locations"] == [{"id": str(a1.id)}]
    assert shown["members"] == {"totalCount": 1, "edges": [{"node": {"id": str(seen.user.id)}}]}


async def test_user_permission_groups_follow_the_group_reading_rule(gql: GQL, factory: Factory, org_a: Org) -> None:
    """`user { permissionGroups }` is a path to groups: without GROUPS_MANAGE or USERS_MANAGE a viewer
    sees only its own groups, as the root `permissionGroups` would refuse it."""
    a1 = org_a.locations[0]
    reader = await factory.group(org_a.organization, [P.USERS_READ], name="Readers")
    secret = await factory.group(org_a.organization, [P.CLIENTS_READ], name="Secret team")
    viewer = await factory.user(org_a.organization, username="reader", locations=[a1], groups=[reader])
    colleague = await factory.user(org_a.organization, username="colleague", locations=[a1], groups=[secret])
    query = "query ($id: ID!) { user(id: $id) { username permissionGroups { name } } }"

    theirs = await gql(query, {"id": str(colleague.user.id)}, token=viewer.token)
    assert theirs["data"]["user"] == {"username": "colleague", "permissionGroups": []}
    own = await gql(query, {"id": str(viewer.user.id)}, token=viewer.token)
    assert own["data"]["user"]["permissionGroups"] == [{"name": "Readers"}]
    admin = await gql(query, {"id": str(colleague.user.id)}, token=org_a.admin.token)
    assert admin["data"]["user"]["permissionGroups"] == [{"name": "Secret team"}]
