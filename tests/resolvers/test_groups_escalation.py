"""No one gives what they do not have (docs/architecture.md "Principals and grants"), for permission groups.

The actor `groups_admin` works everywhere and holds GROUPS_MANAGE and USERS_READ everywhere (an
unrestricted group), plus CLIENTS_READ and CLIENTS_MANAGE at A1 only (a group restricted to A1).
Each refusal is a FORBIDDEN UserError naming the field, leaves the database as it was, and is
recorded as a `<action>.refused` event.
"""

from __future__ import annotations

import pytest

from models.audit import AuditEvent
from models.groups import GroupLocation, GroupMembership, PermissionGroup
from permissions.catalog import Permission as P
from tests.permissions.world import fingerprint
from tests.support import error_codes

CREATE = (
    "mutation($input: CreatePermissionGroupInput!) { createPermissionGroup(input: $input) {"
    " permissionGroup { id permissions allLocations memberCount } errors { field message code } } }"
)
UPDATE = (
    "mutation($input: UpdatePermissionGroupInput!) { updatePermissionGroup(input: $input) {"
    " permissionGroup { id permissions allLocations memberCount } errors { field message code } } }"
)


@pytest.fixture
async def clinic(factory, org_a):
    org = org_a.organization
    a1, a2 = org_a.locations
    managers = await factory.group(org, [P.GROUPS_MANAGE, P.USERS_READ], name="Group managers")
    clients_a1 = await factory.group(org, [P.CLIENTS_READ, P.CLIENTS_MANAGE], name="Clients A1", locations=[a1])
    actor = await factory.user(org, username="groupsadmin", all_locations=True, groups=[managers, clients_a1])
    return {"org": org_a, "a1": a1, "a2": a2, "actor": actor, "factory": factory}


async def create(gql, clinic, token=None, **fields):
    body = await gql(CREATE, {"input": {"name": "New group", **fields}}, token=token or clinic["actor"].token)
    assert error_codes(body) == [], body
    return body["data"]["createPermissionGroup"]


async def update(gql, clinic, group, token=None, **fields):
    body = await gql(UPDATE, {"input": {"id": str(group.id), **fields}}, token=token or clinic["actor"].token)
    assert error_codes(body) == [], body
    return body["data"]["updatePermissionGroup"]


def refused(data, field):
    assert data["permissionGroup"] is None, data
    assert [(e["code"], e["field"]) for e in data["errors"]] == [("FORBIDDEN", ["input", field])], data
    return data["errors"][0]["message"]


# --------------------------------------------------------------------------- creating


async def test_cannot_create_a_group_holding_a_permission_one_lacks(gql, clinic):
    before = await fingerprint()
    message = refused(await create(gql, clinic, permissions=["BILLING_READ"]), "permissions")
    assert "BILLING_READ" in message
    assert await fingerprint() == before
    event = await AuditEvent.get(action="group.create.refused")
    assert event.actor_id == clinic["actor"].user.id and event.changes == {"fields": ["input.permissions"]}


async def test_cannot_create_a_group_at_a_location_outside_ones_grants(gql, clinic):
    data = await create(
        gql, clinic, permissions=["CLIENTS_READ"], allLocations=False, locationIds=[str(clinic["a2"].id)]
    )
    refused(data, "locationIds")


async def test_cannot_create_an_unrestricted_group_without_org_wide_rights(gql, clinic):
    refused(await create(gql, clinic, permissions=["CLIENTS_READ"]), "allLocations")


async def test_can_create_within_ones_grants(gql, clinic):
    data = await create(
        gql, clinic, permissions=["CLIENTS_READ"], allLocations=False, locationIds=[str(clinic["a1"].id)]
    )
    assert data["errors"] == [] and data["permissionGroup"]["permissions"] == ["CLIENTS_READ"]
    data = await create(gql, clinic, name="Readers", permissions=["USERS_READ", "GROUPS_MANAGE"])
    assert data["errors"] == [] and data["permissionGroup"]["allLocations"] is True


async def test_creating_with_members_checks_what_they_gain(gql, clinic):
    factory, org = clinic["factory"], clinic["org"].organization
    member = await factory.user(org, locations=[clinic["a1"], clinic["a2"]], session=False)
    data = await create(
        gql,
        clinic,
        permissions=["CLIENTS_READ"],
        allLocations=False,
        locationIds=[str(clinic["a1"].id)],
        memberIds=[str(member.user.id)],
    )
    assert data["errors"] == [] and data["permissionGroup"]["memberCount"] == 1


async def test_refusals_name_every_field_at_fault(gql, clinic):
    data = await create(gql, clinic, permissions=["BILLING_READ", "CLIENTS_READ"])
    assert sorted(tuple(e["field"]) for e in data["errors"]) == [("input", "allLocations"), ("input", "permissions")]
    assert {e["code"] for e in data["errors"]} == {"FORBIDDEN"}


# --------------------------------------------------------------------------- changing a group


@pytest.fixture
async def clients_group(clinic):
    """A group an admin made: CLIENTS_READ at A1, with one member working at A1 and A2."""
    factory, org = clinic["factory"], clinic["org"].organization
    group = await factory.group(org, [P.CLIENTS_READ], name="Readers A1", locations=[clinic["a1"]])
    await factory.user(org, locations=[clinic["a1"], clinic["a2"]], groups=[group], session=False)
    return group


async def test_cannot_widen_a_group_to_a_location_outside_ones_grants(gql, clinic, clients_group):
    before = await fingerprint()
    refused(
        await update(gql, clinic, clients_group, locationIds=[str(clinic["a1"].id), str(clinic["a2"].id)]),
        "locationIds",
    )
    assert await fingerprint() == before
    assert await AuditEvent.filter(action="group.update.refused").count() == 1


async def test_cannot_make_a_group_unrestricted_without_org_wide_rights(gql, clinic, clients_group):
    refused(await update(gql, clinic, clients_group, allLocations=True), "allLocations")
    assert await GroupLocation.filter(group_id=clients_group.id).count() == 1


async def test_cannot_add_a_permission_one_lacks(gql, clinic, clients_group):
    refused(await update(gql, clinic, clients_group, permissions=["CLIENTS_READ", "BILLING_READ"]), "permissions")
    assert (await PermissionGroup.get(id=clients_group.id)).permission_codes == "CLIENTS_READ"


async def test_adding_a_permission_one_holds_there_is_allowed(gql, clinic, clients_group):
    data = await update(gql, clinic, clients_group, permissions=["CLIENTS_READ", "CLIENTS_MANAGE"])
    assert data["errors"] == [] and data["permissionGroup"]["permissions"] == ["CLIENTS_READ", "CLIENTS_MANAGE"]


async def test_removing_and_renaming_are_allowed_even_on_a_group_beyond_ones_grants(gql, clinic):
    factory, org = clinic["factory"], clinic["org"].organization
    billing = await factory.group(org, [P.BILLING_READ, P.BILLING_MANAGE], name="Billing")
    member = await factory.user(org, locations=[clinic["a1"]], groups=[billing], session=False)
    data = await update(
        gql, clinic, billing, name="Billing office", permissions=["BILLING_READ"], removeMemberIds=[str(member.user.id)]
    )
    assert data["errors"] == [] and data["permissionGroup"]["memberCount"] == 0


# --------------------------------------------------------------------------- members


@pytest.fixture
async def everywhere_group(clinic):
    """An admin's unrestricted group: CLIENTS_READ wherever its members work."""
    return await clinic["factory"].group(clinic["org"].organization, [P.CLIENTS_READ], name="Clients everywhere")


async def test_can_add_a_member_who_gains_only_what_one_holds(gql, clinic, everywhere_group):
    member = await clinic["factory"].user(clinic["org"].organization, locations=[clinic["a1"]], session=False)
    data = await update(gql, clinic, everywhere_group, addMemberIds=[str(member.user.id)])
    assert data["errors"] == [] and data["permissionGroup"]["memberCount"] == 1


async def test_cannot_add_a_member_wider_than_oneself(gql, clinic, everywhere_group):
    member = await clinic["factory"].user(
        clinic["org"].organization, locations=[clinic["a1"], clinic["a2"]], session=False
    )
    before = await fingerprint()
    refused(await update(gql, clinic, everywhere_group, addMemberIds=[str(member.user.id)]), "addMemberIds")
    assert await fingerprint() == before


async def test_a_member_who_already_holds_it_gains_nothing(gql, clinic, everywhere_group):
    factory, org = clinic["factory"], clinic["org"].organization
    already = await factory.group(org, [P.CLIENTS_READ], name="Already")
    member = await factory.user(org, locations=[clinic["a1"], clinic["a2"]], groups=[already], session=False)
    data = await update(gql, clinic, everywhere_group, addMemberIds=[str(member.user.id)])
    assert data["errors"] == []


async def test_adding_an_admin_is_harmless(gql, clinic, everywhere_group):
    data = await update(gql, clinic, everywhere_group, addMemberIds=[str(clinic["org"].admin.user.id)])
    assert data["errors"] == [] and data["permissionGroup"]["memberCount"] == 1


async def test_cannot_add_members_one_may_not_see(gql, clinic, everywhere_group):
    factory, org = clinic["factory"], clinic["org"].organization
    blind = await factory.group(org, [P.GROUPS_MANAGE], name="Managers without USERS_READ")
    actor = await factory.user(org, all_locations=True, groups=[blind])
    member = await factory.user(org, locations=[clinic["a1"]], session=False)
    data = await update(gql, clinic, everywhere_group, token=actor.token, addMemberIds=[str(member.user.id)])
    assert [(e["code"], e["field"]) for e in data["errors"]] == [("NOT_FOUND", ["input", "addMemberIds"])]
    assert await GroupMembership.filter(group_id=everywhere_group.id).count() == 0


# --------------------------------------------------------------------------- admins


async def test_admins_may_do_anything(gql, clinic, clients_group):
    token = clinic["org"].admin.token
    data = await create(gql, clinic, token=token, permissions=[p.value for p in P])
    assert data["errors"] == [] and len(data["permissionGroup"]["permissions"]) == len(P)
    data = await update(gql, clinic, clients_group, token=token, allLocations=True, permissions=["BILLING_READ"])
    assert data["errors"] == [] and data["permissionGroup"]["allLocations"] is True
