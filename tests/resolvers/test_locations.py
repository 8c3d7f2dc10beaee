"""Locations: create, update, deactivate; names unique per organization; ISO codes; scoping."""

from __future__ import annotations

from models.audit import AuditEvent
from models.organization import Location
from permissions.catalog import Permission as P
from tests.factories import make_client, staff_with
from tests.support import error_codes

CREATE = """mutation($input: CreateLocationInput!) { createLocation(input: $input) {
  location { id name timezone phone isActive address { line1 city province country postalCode } }
  errors { field code message } } }"""
UPDATE = """mutation($input: UpdateLocationInput!) { updateLocation(input: $input) {
  location { id name timezone phone address { province country } } errors { field code } } }"""
SET_ACTIVE = """mutation($id: ID!, $active: Boolean!) { setLocationActive(input: {id: $id, active: $active}) {
  location { id isActive } errors { field code } } }"""
LOCATIONS = "query($all: Boolean) { locations(includeInactive: $all) { id name isActive } }"
LOCATION = "query($id: ID!) { location(id: $id) { id name } }"
VIEWER_PERMS = "{ viewer { permissions { permission allLocations locations { id } } } }"


async def create(gql, token: str, **fields) -> dict:
    """createLocation with these input fields: the decoded body."""
    return await gql(CREATE, {"input": fields}, token=token)


async def test_create_location_normalizes_and_audits(gql, org_a):
    body = await create(
        gql,
        org_a.admin.token,
        name="  Eastside ",
        timezone="America/Toronto",
        phone="416 555 0199",
        address={"line1": "1 Main St", "city": "Toronto", "province": "on", "postalCode": "m5v 1a1"},
    )
    payload = body["data"]["createLocation"]
    assert payload["errors"] == [], body
    loc = payload["location"]
    assert loc["name"] == "Eastside" and loc["phone"] == "+14165550199" and loc["isActive"]
    assert loc["address"] == {
        "line1": "1 Main St",
        "city": "Toronto",
        "province": "ON",
        "country": "CA",
        "postalCode": "M5V 1A1",
    }
    event = await AuditEvent.filter(action="location.create", target_id=loc["id"]).first()
    assert event is not None and event.changes["name"] == [None, "Eastside"]


async def test_create_location_rejects_bad_fields_each_at_its_path(gql, org_a):
    body = await create(
        gql, org_a.admin.token, name=" ", timezone="EST", phone="12", address={"province": "QQQQ", "country": "ZZ"}
    )
    errors = {tuple(e["field"]): e["code"] for e in body["data"]["createLocation"]["errors"]}
    assert errors == {
        ("input", "name"): "REQUIRED",
        ("input", "timezone"): "INVALID",
        ("input", "phone"): "INVALID",
        ("input", "address", "country"): "INVALID",
        ("input", "address", "province"): "INVALID",
    }
    assert body["data"]["createLocation"]["location"] is None


async def test_location_names_are_unique_per_organization_case_insensitive(gql, org_a, org_b):
    name = org_a.locations[0].name.upper()
    body = await create(gql, org_a.admin.token, name=name, timezone="UTC")
    assert [e["code"] for e in body["data"]["createLocation"]["errors"]] == ["DUPLICATE"]
    # Another organization may use the same name.
    body = await create(gql, org_b.admin.token, name=name, timezone="UTC")
    assert body["data"]["createLocation"]["errors"] == []
    # Renaming onto another location's name is a duplicate too.
    body = await gql(
        UPDATE, {"input": {"id": str(org_a.locations[1].id), "name": name.lower()}}, token=org_a.admin.token
    )
    assert [e["code"] for e in body["data"]["updateLocation"]["errors"]] == ["DUPLICATE"]


async def test_update_location_changes_only_given_fields(gql, org_a):
    loc = org_a.locations[0]
    body = await gql(
        UPDATE,
        {"input": {"id": str(loc.id), "timezone": "America/Vancouver", "address": {"province": "BC"}}},
        token=org_a.admin.token,
    )
    payload = body["data"]["updateLocation"]
    assert payload["errors"] == []
    assert payload["location"]["name"] == loc.name
    assert payload["location"]["timezone"] == "America/Vancouver"
    assert payload["location"]["address"] == {"province": "BC", "country": "CA"}
    assert (await Location.get(id=loc.id)).version == 2


async def test_other_organization_and_malformed_ids_are_not_found(gql, org_a, org_b):
    for target in (str(org_b.locations[0].id), "not-a-uuid"):
        body = await gql(UPDATE, {"input": {"id": target, "name": "X"}}, token=org_a.admin.token)
        assert [e["code"] for e in body["data"]["updateLocation"]["errors"]] == ["NOT_FOUND"]
        body = await gql(LOCATION, {"id": target}, token=org_a.admin.token)
        assert body["data"]["location"] is None and "errors" not in body


async def test_locations_are_scoped_to_the_viewers_sites(gql, factory, org_a):
    a1, a2 = org_a.locations
    group = await factory.group(org_a.organization, [P.USERS_READ])
    staff = await factory.user(org_a.organization, locations=[a1], groups=[group])
    body = await gql(LOCATIONS, token=staff.token)
    assert [loc["id"] for loc in body["data"]["locations"]] == [str(a1.id)]
    body = await gql(LOCATION, {"id": str(a2.id)}, token=staff.token)
    assert body["data"]["location"] is None
    body = await gql(LOCATIONS, token=org_a.admin.token)
    assert {loc["id"] for loc in body["data"]["locations"]} == {str(a1.id), str(a2.id)}


async def test_location_mutations_need_locations_manage(gql, factory, org_a):
    group = await factory.group(org_a.organization, [P.USERS_MANAGE, P.USERS_READ])
    staff = await factory.user(org_a.organization, locations=org_a.locations, groups=[group])
    body = await create(gql, staff.token, name="New", timezone="UTC")
    assert error_codes(body) == ["FORBIDDEN"]


async def test_deactivating_a_location_ends_grants_there_and_keeps_rows(gql, factory, org_a):
    a1, a2 = org_a.locations
    group = await factory.group(org_a.organization, [P.USERS_READ])
    staff = await factory.user(org_a.organization, locations=[a1, a2], groups=[group])
    body = await gql(VIEWER_PERMS, token=staff.token)
    [perm] = body["data"]["viewer"]["permissions"]
    assert {loc["id"] for loc in perm["locations"]} == {str(a1.id), str(a2.id)}

    body = await gql(SET_ACTIVE, {"id": str(a2.id), "active": False}, token=org_a.admin.token)
    assert body["data"]["setLocationActive"] == {"location": {"id": str(a2.id), "isActive": False}, "errors": []}

    body = await gql(VIEWER_PERMS, token=staff.token)
    [perm] = body["data"]["viewer"]["permissions"]
    assert [loc["id"] for loc in perm["locations"]] == [str(a1.id)]
    assert await Location.exists(id=a2.id)
    listed = await gql(LOCATIONS, {"all": True}, token=org_a.admin.token)
    assert {loc["id"]: loc["isActive"] for loc in listed["data"]["locations"]}[str(a2.id)] is False
    active_only = await gql(LOCATIONS, token=org_a.admin.token)
    assert str(a2.id) not in {loc["id"] for loc in active_only["data"]["locations"]}

    body = await gql(SET_ACTIVE, {"id": str(a2.id), "active": True}, token=org_a.admin.token)
    assert body["data"]["setLocationActive"]["location"]["isActive"] is True
    assert await AuditEvent.filter(action="location.deactivate", target_id=a2.id).exists()


async def test_deactivating_a_location_ends_what_a_group_restricted_to_it_gave(gql, factory, org_a):
    # An all-locations user whose group is restricted to A2 holds its permissions only there: once A2
    # is deactivated, nothing is left, at the very next request.
    a1, a2 = org_a.locations
    group = await factory.group(org_a.organization, [P.USERS_READ, P.CLIENTS_READ], locations=[a2])
    staff = await factory.user(org_a.organization, all_locations=True, groups=[group])
    body = await gql(VIEWER_PERMS, token=staff.token)
    assert {p["permission"]: [loc["id"] for loc in p["locations"]] for p in body["data"]["viewer"]["permissions"]} == {
        "USERS_READ": [str(a2.id)],
        "CLIENTS_READ": [str(a2.id)],
    }
    await gql(SET_ACTIVE, {"id": str(a2.id), "active": False}, token=org_a.admin.token)
    assert (await gql(VIEWER_PERMS, token=staff.token))["data"]["viewer"]["permissions"] == []
    assert error_codes(await gql("{ users { totalCount } }", token=staff.token)) == ["FORBIDDEN"]


CLIENTS = "{ clients(first: 50) { edges { node { firstName } } } }"


async def test_reactivating_a_location_restores_only_what_the_actor_holds(gql, factory, org_a):
    """Found in a security review: reactivating gave back every grant the location carried with no
    check. Restoring is granting: a keeper holding LOCATIONS_MANAGE alone may not hand a nurse back
    CLIENTS_MANAGE there; an admin may."""
    a1, a2 = org_a.locations
    keeper = await staff_with(factory, org_a, [P.LOCATIONS_MANAGE], [a1])
    nurse = await staff_with(factory, org_a, [P.CLIENTS_MANAGE, P.CLIENTS_READ], [a2])
    off = await gql(SET_ACTIVE, {"id": str(a2.id), "active": False}, token=org_a.admin.token)
    assert off["data"]["setLocationActive"]["errors"] == [], off

    refused = (await gql(SET_ACTIVE, {"id": str(a2.id), "active": True}, token=keeper.token))["data"]
    assert refused["setLocationActive"]["errors"] == [{"field": ["input", "active"], "code": "FORBIDDEN"}]
    assert not (await Location.get(id=a2.id)).is_active
    held = (await gql(VIEWER_PERMS, token=nurse.token))["data"]["viewer"]["permissions"]
    assert P.CLIENTS_MANAGE.value not in {p["permission"] for p in held}

    allowed = (await gql(SET_ACTIVE, {"id": str(a2.id), "active": True}, token=org_a.admin.token))["data"]
    assert allowed["setLocationActive"]["errors"] == []
    held = (await gql(VIEWER_PERMS, token=nurse.token))["data"]["viewer"]["permissions"]
    assert P.CLIENTS_MANAGE.value in {p["permission"] for p in held}


async def test_an_integration_cannot_reactivate_a_location_it_was_cut_off_from(gql, factory, org_a):
    """Found in a security review: a partner token holding LOCATIONS_MANAGE undid an admin's cut-off
    by reactivating the location itself. Restoring grants is never for API tokens."""
    a1, a2 = org_a.locations
    await make_client(org_a, a1, "Ada", "Here")
    await make_client(org_a, a2, "Bo", "There")
    partner = await factory.integration(org_a, [P.CLIENTS_READ, P.LOCATIONS_MANAGE], [a1, a2])
    await gql(SET_ACTIVE, {"id": str(a2.id), "active": False}, token=org_a.admin.token)
    body = await gql(SET_ACTIVE, {"id": str(a2.id), "active": True}, token=partner.token)
    assert error_codes(body) == ["FORBIDDEN"] or body["data"]["setLocationActive"]["errors"][0]["code"] == "FORBIDDEN"
    assert not (await Location.get(id=a2.id)).is_active
    names = (await gql(CLIENTS, token=partner.token))["data"]["clients"]["edges"]
    assert [e["node"]["firstName"] for e in names] == ["Ada"]
    # A staff keeper with LOCATIONS_MANAGE and no client permission may not bring the partner's
    # CLIENTS_READ back there either.
    keeper = await staff_with(factory, org_a, [P.LOCATIONS_MANAGE], [a1])
    refused = (await gql(SET_ACTIVE, {"id": str(a2.id), "active": True}, token=keeper.token))["data"]
    assert refused["setLocationActive"]["errors"] == [{"field": ["input", "active"], "code": "FORBIDDEN"}]
