"""Every path to a staff user, and the changes that add grants or could lock an organization out."""

from __future__ import annotations

from models.users import User
from permissions.catalog import Permission as P
from tests.factories import Factory, Org, make_provider, staff_with
from tests.support import GQL, error_codes, payload_codes

USERS = """
query ($filter: UserFilter) { users(filter: $filter) { totalCount edges { node { id locations { id } } } } }
"""


async def test_users_location_filter_is_not_an_oracle(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    viewer = await staff_with(factory, org_a, [P.USERS_READ], [a1])
    both = await factory.user(org_a.organization, username="both", locations=[a1, a2])
    body = await gql(USERS, {"filter": {"username": "both"}}, token=viewer.token)
    assert body["data"]["users"]["edges"][0]["node"] == {"id": str(both.user.id), "locations": [{"id": str(a1.id)}]}
    body = await gql(USERS, {"filter": {"username": "both", "locationId": str(a2.id)}}, token=viewer.token)
    assert body["data"]["users"]["totalCount"] == 0
    assert body["data"]["users"]["edges"] == []


async def test_provider_number_filter_only_where_billing_read_is_held(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    reader = await factory.group(org_a.organization, [P.USERS_READ])
    billing = await factory.group(org_a.organization, [P.BILLING_READ], locations=[a1])
    viewer = await factory.user(org_a.organization, username="v", locations=[a1, a2], groups=[reader, billing])
    doc = await factory.user(org_a.organization, username="doc", locations=[a2])
    await make_provider(doc.user, provincial_billing_number="123456")
    body = await gql(USERS, {"filter": {"providerNumber": "123456"}}, token=viewer.token)
    assert "errors" not in body, body
    assert body["data"]["users"]["totalCount"] == 0
    no_billing = await staff_with(factory, org_a, [P.USERS_READ], [a1, a2])
    body = await gql(USERS, {"filter": {"providerNumber": "123456"}}, token=no_billing.token)
    assert error_codes(body) == ["FORBIDDEN"]


async def test_other_organizations_users_are_missing_everywhere(
    gql: GQL, factory: Factory, org_a: Org, org_b: Org
) -> None:
    theirs = await factory.user(org_b.organization, username="theirs", locations=[org_b.locations[0]])
    group_b = await factory.group(org_b.organization, [P.USERS_READ])
    token = org_a.admin.token
    body = await gql("query ($id: ID!) { user(id: $id) { id } }", {"id": str(theirs.user.id)}, token=token)
    assert body["data"]["user"] is None
    body = await gql(USERS, {"filter": {"locationId": str(org_b.locations[0].id)}}, token=token)
    assert all(e["node"]["id"] != str(theirs.user.id) for e in body["data"]["users"]["edges"])
    body = await gql(USERS, {"filter": {"permissionGroupId": str(group_b.id)}}, token=token)
    assert body["data"]["users"]["totalCount"] == 0
    body = await gql(
        """mutation ($id: ID!) { updateUser(input: {id: $id, firstName: "X"}) { errors { code } } }""",
        {"id": str(theirs.user.id)},
        token=token,
    )
    assert payload_codes(body["data"]["updateUser"]) == ["NOT_FOUND"]
    body = await gql(
        "mutation ($id: ID!, $g: [ID!]) { updateUser(input: {id: $id, permissionGroupIds: $g}) { errors { code } } }",
        {"id": str(org_a.admin.user.id), "g": [str(group_b.id)]},
        token=token,
    )
    assert payload_codes(body["data"]["updateUser"]) == ["NOT_FOUND"]
    body = await gql(
        """mutation ($id: ID!) { disableAccess(input: {userIds: [$id]}) { errors { code } } }""",
        {"id": str(theirs.user.id)},
        token=token,
    )
    assert payload_codes(body["data"]["disableAccess"]) == ["NOT_FOUND"]
    assert (await User.get(id=theirs.user.id)).access_status.value == "ENABLED"


async def test_user_provider_needs_providers_read(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1 = org_a.locations[0]
    viewer = await staff_with(factory, org_a, [P.USERS_READ], [a1])
    doc = await factory.user(org_a.organization, username="doc", locations=[a1])
    await make_provider(doc.user, provincial_billing_number="123456")
    body = await gql(
        "query ($id: ID!) { user(id: $id) { provider { id } } }", {"id": str(doc.user.id)}, token=viewer.token
    )
    assert body["data"]["user"] == {"provider": None}


async def test_no_escalation_through_update_user(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    manager = await staff_with(factory, org_a, [P.USERS_READ, P.USERS_MANAGE], [a1])
    target = await factory.user(org_a.organization, username="t", locations=[a1])
    strong = await factory.group(org_a.organization, [P.CLIENTS_READ])
    mutation = """mutation ($input: UpdateUserInput!) { updateUser(input: $input) { errors { code field } } }"""
    for change in (
        {"permissionGroupIds": [str(strong.id)]},
        {"sites": {"allLocations": True}},
        {"isAdmin": True},
    ):
        body = await gql(mutation, {"input": {"id": str(target.user.id), **change}}, token=manager.token)
        assert payload_codes(body["data"]["updateUser"]) == ["FORBIDDEN"], change
    both = {"sites": {"locationIds": [str(a1.id), str(a2.id)]}}
    body = await gql(mutation, {"input": {"id": str(target.user.id), **both}}, token=manager.token)
    assert payload_codes(body["data"]["updateUser"]) == ["NOT_FOUND"]  # A2 is out of the manager's reach
    # Working at A2 too (so seeing it) but managing users at A1 only: refused as an escalation.
    a1_managers = await factory.group(org_a.organization, [P.USERS_READ, P.USERS_MANAGE], locations=[a1])
    wider = await factory.user(org_a.organization, username="wider", locations=[a1, a2], groups=[a1_managers])
    body = await gql(mutation, {"input": {"id": str(target.user.id), **both}}, token=wider.token)
    assert body["data"]["updateUser"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "sites"]}]
    body = await gql(mutation, {"input": {"id": str(org_a.admin.user.id), "firstName": "Mallory"}}, token=manager.token)
    assert payload_codes(body["data"]["updateUser"]) == ["FORBIDDEN"]


async def test_last_admin_cannot_be_removed_by_any_path(gql: GQL, factory: Factory, org_a: Org) -> None:
    admin = org_a.admin
    uid = str(admin.user.id)
    for mutation, name in (
        ("mutation ($id: ID!) { setUserActive(input: {id: $id, active: false}) { errors { code } } }", "setUserActive"),
        ("mutation ($id: ID!) { disableAccess(input: {userIds: [$id]}) { errors { code } } }", "disableAccess"),
        ("mutation ($id: ID!) { updateUser(input: {id: $id, isAdmin: false}) { errors { code } } }", "updateUser"),
    ):
        body = await gql(mutation, {"id": uid}, token=admin.token)
        assert payload_codes(body["data"][name]) == ["LAST_ADMIN"], (name, body)
    provider = await make_provider(admin.user)
    body = await gql(
        "mutation ($id: ID!) { deactivateProvider(input: {id: $id}) { errors { code } } }",
        {"id": str(provider.id)},
        token=admin.token,
    )
    assert payload_codes(body["data"]["deactivateProvider"]) == ["LAST_ADMIN"]
    row = await User.get(id=uid)
    assert row.is_admin and row.is_active


async def test_no_escalation_through_a_deactivated_location(gql: GQL, factory: Factory, org_a: Org) -> None:
    from models.groups import GroupMembership
    from models.organization import Location

    a1, a2 = org_a.locations
    managers = await factory.group(org_a.organization, [P.USERS_READ, P.USERS_MANAGE])
    actor = await factory.user(org_a.organization, username="um", all_locations=True, groups=[managers])
    at_a2 = await factory.group(org_a.organization, [P.CLIENTS_MANAGE], locations=[a2])
    target = await factory.user(org_a.organization, username="t", all_locations=True)
    await Location.filter(id=a2.id).update(is_active=False)
    body = await gql(
        "mutation ($id: ID!, $g: [ID!]) { updateUser(input: {id: $id, permissionGroupIds: $g})"
        " { errors { code field } } }",
        {"id": str(target.user.id), "g": [str(at_a2.id)]},
        token=actor.token,
    )
    assert payload_codes(body["data"]["updateUser"]) == ["FORBIDDEN"]
    assert not await GroupMembership.filter(user_id=target.user.id).exists()


async def test_a_location_out_of_reach_looks_unknown_in_a_users_sites(gql: GQL, factory: Factory, org_a: Org) -> None:
    """Found in a security review: the sites of `createUser`/`updateUser` were looked up in the whole
    organization, so a location the actor may not see answered "deactivated" (INVALID) or FORBIDDEN
    where an unknown id answers NOT_FOUND: an oracle for other sites' location ids."""
    from uuid import uuid4

    a1, a2 = org_a.locations
    closed = await factory.location(org_a.organization, "Closed site", active=False)
    manager = await staff_with(factory, org_a, [P.USERS_READ, P.USERS_MANAGE], [a1])
    target = await factory.user(org_a.organization, username="t", locations=[a1])
    update = """mutation ($input: UpdateUserInput!) { updateUser(input: $input) { errors { code field } } }"""
    create = """mutation ($input: CreateUserInput!) { createUser(input: $input) { errors { code field } } }"""

    async def answers(location_id: str) -> list[list[dict]]:
        sites = {"locationIds": [str(a1.id), location_id]}
        updated = await gql(update, {"input": {"id": str(target.user.id), "sites": sites}}, token=manager.token)
        created = await gql(
            create,
            {
                "input": {
                    "login": {"username": "newcomer", "password": "quiet-meadow-orchard-17"},
                    "contact": {"firstName": "New", "lastName": "Comer", "type": "FRONT_DESK"},
                    "sites": sites,
                    "accessEnabled": False,
                }
            },
            token=manager.token,
        )
        return [updated["data"]["updateUser"]["errors"], created["data"]["createUser"]["errors"]]

    unknown = await answers(str(uuid4()))
    assert unknown == [[{"code": "NOT_FOUND", "field": ["input", "sites", "locationIds", "1"]}]] * 2
    assert await answers(str(closed.id)) == unknown  # deactivated, at a site the manager does not reach
    assert await answers(str(a2.id)) == unknown  # active, at a site the manager does not reach
    # An administrator reaches every location: the deactivated one is told as such.
    body = await gql(
        update,
        {"input": {"id": str(target.user.id), "sites": {"locationIds": [str(closed.id)]}}},
        token=org_a.admin.token,
    )
    assert body["data"]["updateUser"]["errors"] == [
        {"code": "INVALID", "field": ["input", "sites", "locationIds", "0"]}
    ]


async def test_effective_permissions_tell_nothing_of_a_site_the_viewer_may_not_see(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """A user at A1 and A2, seen from A1, looks like one at A1 alone: a permission it holds only at
    A2 would otherwise show (with no location) and tell that it works somewhere hidden (audit 52)."""
    a1, a2 = org_a.locations
    viewer = await staff_with(factory, org_a, [P.USERS_READ], [a1])
    here = await factory.group(org_a.organization, [P.CLIENTS_READ], locations=[a1])
    there = await factory.group(org_a.organization, [P.BILLING_MANAGE], locations=[a2])
    both = await factory.user(org_a.organization, username="both", locations=[a1, a2], groups=[here, there])
    only_here = await factory.user(org_a.organization, username="here", locations=[a1], groups=[here])
    doc = """query ($id: ID!) { user(id: $id) { locations { id }
        effectivePermissions { permission allLocations locations { id } } } }"""
    seen = []
    for staff in (both, only_here):
        body = await gql(doc, {"id": str(staff.user.id)}, token=viewer.token)
        assert "errors" not in body, body
        seen.append(body["data"]["user"])
    assert seen[0]["locations"] == seen[1]["locations"] == [{"id": str(a1.id)}]
    assert (
        seen[0]["effectivePermissions"]
        == seen[1]["effectivePermissions"]
        == [{"permission": "CLIENTS_READ", "allLocations": False, "locations": [{"id": str(a1.id)}]}]
    )
    # The admin sees both sites' permissions.
    body = await gql(doc, {"id": str(both.user.id)}, token=org_a.admin.token)
    assert {p["permission"] for p in body["data"]["user"]["effectivePermissions"]} == {"CLIENTS_READ", "BILLING_MANAGE"}
