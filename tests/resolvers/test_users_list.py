"""`users(filter)`: every filter of the contract, keyset pages by last name, first name, id, and a
totalCount of the viewer's scope only; `user(id)` hides what is out of scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.enums import UserType
from permissions.catalog import Permission as P
from tests.factories import make_provider
from tests.support import error_codes

USERS = """query($f: UserFilter, $first: Int, $after: String) { users(filter: $f, first: $first, after: $after) {
  totalCount edges { cursor node { username } } pageInfo { hasNextPage endCursor } } }"""
USER = "query($id: ID!) { user(id: $id) { username } }"


async def _names(gql, token, f=None, first=50):
    body = await gql(USERS, {"f": f, "first": first}, token=token)
    assert "errors" not in body, body
    return [e["node"]["username"] for e in body["data"]["users"]["edges"]]


async def _people(factory, org):
    a1, a2 = org.locations
    o = org.organization
    group = await factory.group(o, [P.CLIENTS_READ], name="Readers")
    made = {
        "abbott": await factory.user(o, username="abbott", first_name="Zed", last_name="Abbott", locations=[a1]),
        "baker": await factory.user(
            o, username="baker", first_name="Amy", last_name="Baker", locations=[a2], type=UserType.BILLING
        ),
        "baker2": await factory.user(
            o, username="baker2", first_name="Bea", last_name="Baker", locations=[a1], groups=[group]
        ),
        "carter": await factory.user(o, username="carter", first_name="Cy", last_name="Carter", all_locations=True),
        "dunn": await factory.user(o, username="dunn", first_name="Di", last_name="Dunn", locations=[a2], active=False),
        "evans": await factory.user(
            o,
            username="evans",
            first_name="Ed",
            last_name="Evans",
            locations=[a1],
            expires_at=datetime.now(UTC) - timedelta(days=1),
        ),
    }
    await make_provider(made["baker"].user, "Amy Baker", provincial="654321")
    return made


async def test_order_pages_and_total(gql, factory, org_a):
    await _people(factory, org_a)
    everyone = await _names(gql, org_a.admin.token)
    assert everyone == ["abbott", "admin", "baker", "baker2", "carter", "dunn", "evans"]
    body = await gql(USERS, {"first": 3}, token=org_a.admin.token)
    page = body["data"]["users"]
    assert [e["node"]["username"] for e in page["edges"]] == everyone[:3]
    assert page["totalCount"] == 7 and page["pageInfo"]["hasNextPage"]
    seen = [e["node"]["username"] for e in page["edges"]]
    after = page["pageInfo"]["endCursor"]
    while after:
        body = await gql(USERS, {"first": 3, "after": after}, token=org_a.admin.token)
        page = body["data"]["users"]
        seen += [e["node"]["username"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
    assert seen == everyone
    for bad in ({"first": 101}, {"first": -1}, {"after": "garbage"}):
        assert error_codes(await gql(USERS, bad, token=org_a.admin.token)) == ["BAD_USER_INPUT"]


async def test_every_filter(gql, factory, org_a):
    made = await _people(factory, org_a)
    a1, a2 = org_a.locations
    token = org_a.admin.token
    group_id = str((await made["baker2"].user.memberships.all().first()).group_id)
    assert await _names(gql, token, {"search": "bak"}) == ["baker", "baker2"]
    assert await _names(gql, token, {"search": "amy"}) == ["baker"]
    assert await _names(gql, token, {"search": "carter@"}) == ["carter"]
    assert await _names(gql, token, {"lastName": "ba"}) == ["baker", "baker2"]
    assert await _names(gql, token, {"username": "BAKER"}) == ["baker"]
    assert await _names(gql, token, {"providerNumber": "654321"}) == ["baker"]
    assert await _names(gql, token, {"isActive": False}) == ["dunn"]
    assert await _names(gql, token, {"status": "INACTIVE"}) == ["dunn"]
    assert await _names(gql, token, {"status": "EXPIRED"}) == ["evans"]
    assert "evans" not in await _names(gql, token, {"status": "ACTIVE"})
    assert await _names(gql, token, {"type": "BILLING"}) == ["baker"]
    assert await _names(gql, token, {"locationId": str(a2.id)}) == ["admin", "baker", "carter", "dunn"]
    assert await _names(gql, token, {"permissionGroupId": group_id}) == ["baker2"]
    assert await _names(gql, token, {"permissionGroupId": "junk", "locationId": "junk"}) == []
    assert await _names(gql, token, {"locationId": str(a1.id), "search": "e"}) == ["evans"]


async def test_a_location_or_group_of_another_organization_filters_to_nothing(gql, factory, org_a, org_b):
    # Not even the all-locations users: an unknown or other-organization id is like a malformed one.
    made = await _people(factory, org_a)
    theirs = await factory.group(org_b.organization, [P.CLIENTS_READ], name="Theirs")
    token = org_a.admin.token
    for junk in (str(org_b.locations[0].id), "00000000-0000-4000-8000-000000000000", "junk"):
        body = await gql(USERS, {"f": {"locationId": junk}}, token=token)
        assert body["data"]["users"] == {
            "totalCount": 0,
            "edges": [],
            "pageInfo": {"hasNextPage": False, "endCursor": None},
        }
    assert await _names(gql, token, {"permissionGroupId": str(theirs.id)}) == []
    assert "carter" in await _names(gql, token, {"locationId": str(org_a.locations[0].id)})
    assert made["carter"].user.all_locations


async def test_scope_users_read_at_a1_sees_a1_and_all_locations_users_and_self(gql, factory, org_a):
    made = await _people(factory, org_a)
    a1 = org_a.locations[0]
    group = await factory.group(org_a.organization, [P.USERS_READ], locations=[a1])
    viewer = await factory.user(
        org_a.organization, username="viewer", first_name="V", last_name="Zz", locations=[a1], groups=[group]
    )
    names = await _names(gql, viewer.token)
    assert names == ["abbott", "admin", "baker2", "carter", "evans", "viewer"]
    body = await gql(USERS, {"first": 1}, token=viewer.token)
    assert body["data"]["users"]["totalCount"] == 6
    assert (await gql(USER, {"id": str(made["baker"].user.id)}, token=viewer.token))["data"]["user"] is None
    assert (await gql(USER, {"id": str(made["abbott"].user.id)}, token=viewer.token))["data"]["user"]
    # providerNumber is guarded: without BILLING_READ it is refused, not answered.
    assert error_codes(await gql(USERS, {"f": {"providerNumber": "654321"}}, token=viewer.token)) == ["FORBIDDEN"]


async def test_other_organizations_users_are_invisible(gql, factory, org_a, org_b):
    assert (await gql(USER, {"id": str(org_b.admin.user.id)}, token=org_a.admin.token))["data"]["user"] is None
    assert (await gql(USER, {"id": "junk"}, token=org_a.admin.token))["data"]["user"] is None
    assert await _names(gql, org_b.admin.token) == ["admin"]


async def test_user_provider_and_groups_fields(gql, factory, org_a):
    made = await _people(factory, org_a)
    body = await gql(
        "query($id: ID!) { user(id: $id) { provider { displayName } lastLoginAt } }",
        {"id": str(made["baker"].user.id)},
        token=org_a.admin.token,
    )
    assert body["data"]["user"]["provider"] == {"displayName": "Amy Baker"}
    group = await factory.group(org_a.organization, [P.USERS_READ], locations=[org_a.locations[1]])
    no_providers = await factory.user(org_a.organization, locations=[org_a.locations[1]], groups=[group])
    body = await gql(
        "query($id: ID!) { user(id: $id) { provider { displayName } } }",
        {"id": str(made["baker"].user.id)},
        token=no_providers.token,
    )
    assert body["data"]["user"] == {"provider": None}


async def test_status_locked_filter_reads_the_login_throttle(gql, factory, org_a):
    from models.enums import LoginOutcome
    from models.sessions import LoginAttempt

    await _people(factory, org_a)
    now_ts = int(datetime.now(UTC).timestamp())
    await LoginAttempt.create(
        organization_id=org_a.organization.id,
        username_key="abbott",
        ip_address="0.0.0.0",
        outcome=LoginOutcome.FAILED,
        user_locked_until=now_ts + 900,
        created_at=now_ts,
    )
    token = org_a.admin.token
    assert await _names(gql, token, {"status": "LOCKED"}) == ["abbott"]
    assert await _names(gql, token, {"status": "ACTIVE"}) == ["admin", "baker", "baker2", "carter"]
