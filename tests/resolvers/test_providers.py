"""Providers (article 003) over GraphQL: reading with guarded user and billing, the list's filters and
keyset paging, nested clients never wider than the client rules, batching, and updateProvider."""

from __future__ import annotations

import uuid

from models.audit import AuditEvent
from models.enums import BillingRole, ClientStatus, UserType
from models.providers import Provider
from permissions.catalog import Permission as P
from tests.factories import make_client, make_provider, staff_with
from tests.support import count_statements, error_codes, nodes, pages

ONE = """query($id: ID!) { provider(id: $id) {
  id displayName specialty billingRole profileImageUrl status deactivateAt deactivatedAt version
  settings { messagingEnabled defaultRtmStatus } locations { id } user { id username }
} }"""
BILLING = (
    "query($id: ID!) { provider(id: $id) { id displayName billing { provincialBillingNumber groupBillingNumber } } }"
)
LIST = """query($f: ProviderFilter, $first: Int, $after: String) {
  providers(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id displayName } }
  }
}"""
CLIENTS = """query($id: ID!, $first: Int, $after: String) { provider(id: $id) {
  clientCount clients(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { id lastName } }
  }
} }"""
UPDATE = """mutation($input: UpdateProviderInput!) { updateProvider(input: $input) {
  provider { id displayName specialty billingRole profileImageUrl version settings { messagingEnabled defaultRtmStatus }
             billing { provincialBillingNumber groupBillingNumber } }
  errors { field code message }
} }"""


async def provider_at(factory, org, locations, name, **extra):
    staff = await factory.user(
        org.organization, type=UserType.PROVIDER, locations=locations, last_name=name.split()[-1], session=False
    )
    return await make_provider(staff.user, display_name=name, **extra)


# --------------------------------------------------------------------------- reading


async def test_provider_fields_and_guarded_user(gql, factory, org_a) -> None:
    a1, a2 = org_a.locations
    prov = await provider_at(factory, org_a, [a1, a2], "Dr Ada Lane", provincial="123456")
    reader = await staff_with(factory, org_a, [P.PROVIDERS_READ], [a1])
    body = await gql(ONE, {"id": str(prov.id)}, token=reader.token)
    data = body["data"]["provider"]
    # No USERS_READ: the guarded user is null with one FORBIDDEN error at its path.
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["provider", "user"]
    assert data["displayName"] == "Dr Ada Lane"
    assert data["status"] == "ACTIVE" and data["version"] == 1
    assert data["settings"] == {"messagingEnabled": True, "defaultRtmStatus": False}
    # Only the sites the viewer may see; no USERS_READ, so the user is hidden.
    assert [loc["id"] for loc in data["locations"]] == [str(a1.id)]
    assert data["user"] is None
    body = await gql(ONE, {"id": str(prov.id)}, token=org_a.admin.token)
    assert {loc["id"] for loc in body["data"]["provider"]["locations"]} == {str(a1.id), str(a2.id)}
    assert body["data"]["provider"]["user"]["id"] == str(prov.user_id)


async def test_malformed_and_foreign_ids_are_null(gql, factory, org_a, org_b) -> None:
    prov = await provider_at(factory, org_a, [org_a.locations[0]], "Dr Ada Lane")
    for pid in ("not-a-uuid", str(uuid.uuid4())):
        body = await gql(ONE, {"id": pid}, token=org_a.admin.token)
        assert body["data"]["provider"] is None and error_codes(body) == []
    body = await gql(ONE, {"id": str(prov.id)}, token=org_b.admin.token)
    assert body["data"]["provider"] is None and error_codes(body) == []


async def test_billing_is_null_with_one_forbidden_error_without_billing_read(gql, factory, org_a) -> None:
    a1 = org_a.locations[0]
    prov = await provider_at(factory, org_a, [a1], "Dr Ada Lane", provincial="123456", group="AB12")
    desk = await staff_with(factory, org_a, [P.PROVIDERS_READ], [a1])
    body = await gql(BILLING, {"id": str(prov.id)}, token=desk.token)
    assert body["data"]["provider"]["displayName"] == "Dr Ada Lane"
    assert body["data"]["provider"]["billing"] is None
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["provider", "billing"]
    billing = await staff_with(factory, org_a, [P.PROVIDERS_READ, P.BILLING_READ], [a1])
    body = await gql(BILLING, {"id": str(prov.id)}, token=billing.token)
    assert error_codes(body) == []
    assert body["data"]["provider"]["billing"] == {"provincialBillingNumber": "123456", "groupBillingNumber": "AB12"}


async def test_billing_guard_on_a_list_is_one_error_per_hidden_value(gql, factory, org_a) -> None:
    a1, a2 = org_a.locations
    await provider_at(factory, org_a, [a1], "Dr One", provincial="111111")
    await provider_at(factory, org_a, [a2], "Dr Two", provincial="222222")
    group = await factory.group(org_a.organization, [P.BILLING_READ], locations=[a1])
    reader_group = await factory.group(org_a.organization, [P.PROVIDERS_READ])
    viewer = await factory.user(org_a.organization, locations=[a1, a2], groups=[group, reader_group])
    body = await gql(
        "{ providers { edges { node { displayName billing { provincialBillingNumber } } } } }", token=viewer.token
    )
    billing = {e["node"]["displayName"]: e["node"]["billing"] for e in body["data"]["providers"]["edges"]}
    assert billing == {"Dr One": {"provincialBillingNumber": "111111"}, "Dr Two": None}
    assert error_codes(body) == ["FORBIDDEN"]


async def test_list_filters_and_keyset_paging(gql, factory, org_a) -> None:
    a1, a2 = org_a.locations
    for n, name in enumerate(["Dr Alpha", "Dr Bravo", "Dr Charlie", "Dr Delta", "Dr Echo"]):
        await provider_at(
            factory,
            org_a,
            [a1 if n % 2 == 0 else a2],
            name,
            billing_role=BillingRole.SUPERVISED if n == 4 else BillingRole.BILLING_PROVIDER,
        )
    token = org_a.admin.token
    got = await pages(gql, LIST, {"first": 2}, "providers", token=token)
    assert all(page["totalCount"] == 5 for page in got)
    assert nodes(got, "displayName") == ["Dr Alpha", "Dr Bravo", "Dr Charlie", "Dr Delta", "Dr Echo"]

    async def names(f):
        body = await gql(LIST, {"f": f}, token=token)
        return [e["node"]["displayName"] for e in body["data"]["providers"]["edges"]]

    assert await names({"search": "dr ch"}) == ["Dr Charlie"]
    assert await names({"search": "DELTA"}) == ["Dr Delta"]  # the user's last name
    assert await names({"locationId": str(a2.id)}) == ["Dr Bravo", "Dr Delta"]
    assert await names({"locationId": "nope"}) == []
    assert await names({"billingRole": "SUPERVISED"}) == ["Dr Echo"]
    assert await names({"status": "INACTIVE"}) == []
    for bad in (101, -1):
        body = await gql(LIST, {"first": bad}, token=token)
        assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await gql(LIST, {"after": "garbage"}, token=token)
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_a_passed_scheduled_date_reads_as_inactive(gql, factory, org_a) -> None:
    from datetime import UTC, datetime, timedelta

    from models.enums import ProviderStatus

    past = datetime.now(UTC) - timedelta(minutes=1)
    await provider_at(
        factory,
        org_a,
        [org_a.locations[0]],
        "Dr Late",
        status=ProviderStatus.DEACTIVATION_SCHEDULED,
        deactivate_at=past,
    )
    body = await gql(LIST + "", {"f": {"status": "INACTIVE"}}, token=org_a.admin.token)
    assert [e["node"]["displayName"] for e in body["data"]["providers"]["edges"]] == ["Dr Late"]
    body = await gql(LIST, {"f": {"status": "DEACTIVATION_SCHEDULED"}}, token=org_a.admin.token)
    assert body["data"]["providers"]["edges"] == []


# --------------------------------------------------------------------------- nested clients


async def test_nested_clients_never_reveal_what_the_viewer_could_not_fetch(gql, factory, org_a, org_b) -> None:
    a1, a2 = org_a.locations
    prov = await provider_at(factory, org_a, [a1, a2], "Dr Ada Lane")
    seen_ids = {str((await make_client(org_a, a1, f"C{n}", f"Alpha{n}", provider=prov)).id) for n in range(3)}
    hidden = await make_client(org_a, a2, "Hid", "Den", provider=prov)
    await make_client(org_a, a1, "Gone", "Merged", provider=prov, status=ClientStatus.MERGED)
    group = await factory.group(org_a.organization, [P.CLIENTS_READ], locations=[a1])
    reader_group = await factory.group(org_a.organization, [P.PROVIDERS_READ])
    desk = await factory.user(org_a.organization, locations=[a1, a2], groups=[group, reader_group])

    body = await gql(CLIENTS, {"id": str(prov.id)}, token=desk.token)
    data = body["data"]["provider"]
    assert error_codes(body) == []
    assert data["clientCount"] == 3
    assert data["clients"]["totalCount"] == 3
    assert {e["node"]["id"] for e in data["clients"]["edges"]} == seen_ids
    assert str(hidden.id) not in str(body)
    # Reading them through the provider is logged like any other client read (one event, those returned).
    event = await AuditEvent.filter(action="client.read", actor_id=desk.user.id).order_by("-occurred_at").first()
    assert event is not None and set(event.changes["clientIds"]) == seen_ids
    # The same rule as the root query: `client` answers null for the hidden one.
    one = await gql("query($id: ID!) { client(id: $id) { id } }", {"id": str(hidden.id)}, token=desk.token)
    assert one["data"]["client"] is None

    # Paging through one provider's clients.
    got = await pages(gql, CLIENTS, {"id": str(prov.id), "first": 2}, "provider", "clients", token=desk.token)
    assert nodes(got, "lastName") == ["Alpha0", "Alpha1", "Alpha2"]

    # The admin sees all four (the merged-away row is not a client any more).
    body = await gql(CLIENTS, {"id": str(prov.id)}, token=org_a.admin.token)
    assert body["data"]["provider"]["clientCount"] == 4
    # Without any client permission: nothing, and no error.
    reader = await staff_with(factory, org_a, [P.PROVIDERS_READ], [a1, a2])
    body = await gql(CLIENTS, {"id": str(prov.id)}, token=reader.token)
    assert body["data"]["provider"]["clientCount"] == 0
    assert body["data"]["provider"]["clients"]["edges"] == []


async def test_own_clients_through_clients_read_own(gql, factory, org_a) -> None:
    a1 = org_a.locations[0]
    group = await factory.group(org_a.organization, [P.PROVIDERS_READ, P.CLIENTS_READ_OWN])
    me = await factory.user(org_a.organization, type=UserType.PROVIDER, locations=[a1], groups=[group])
    mine = await make_provider(me.user, display_name="Dr Me")
    other = await provider_at(factory, org_a, [a1], "Dr Other")
    await make_client(org_a, a1, "Own", "Client", provider=mine)
    await make_client(org_a, a1, "Their", "Client", provider=other)
    for prov, expected in ((mine, 1), (other, 0)):
        body = await gql(CLIENTS, {"id": str(prov.id)}, token=me.token)
        assert body["data"]["provider"]["clientCount"] == expected
        assert len(body["data"]["provider"]["clients"]["edges"]) == expected


async def test_a_page_of_providers_costs_a_fixed_number_of_statements(gql, factory, org_a) -> None:
    a1, a2 = org_a.locations
    query = """{ providers(first: 50) { totalCount edges { node {
      id status user { id username } billing { provincialBillingNumber } locations { id name }
      clientCount clients(first: 3) { totalCount edges { node { id lastName } } }
    } } } }"""

    async def add(n: int) -> None:
        for i in range(n):
            number = f"{100000 + await Provider.all().count()}"  # one provider per billing number
            prov = await provider_at(factory, org_a, [a1, a2], f"Dr N{uuid.uuid4().hex[:6]}", provincial=number)
            for j in range(2):
                await make_client(org_a, a1 if j else a2, f"F{i}{j}", f"L{i}{j}", provider=prov)

    await add(2)
    with count_statements() as few:
        small = await gql(query, token=org_a.admin.token)
    await add(6)
    with count_statements() as many:
        big = await gql(query, token=org_a.admin.token)
    assert error_codes(small) == [] and error_codes(big) == []
    assert len(big["data"]["providers"]["edges"]) == 8
    assert all(e["node"]["clientCount"] == 2 for e in big["data"]["providers"]["edges"])
    assert len(many) == len(few), (len(few), len(many))


# --------------------------------------------------------------------------- updateProvider


async def test_update_provider_fields_and_audit(gql, factory, org_a) -> None:
    prov = await provider_at(factory, org_a, [org_a.locations[0]], "Dr Ada Lane")
    body = await gql(
        UPDATE,
        {
            "input": {
                "id": str(prov.id),
                "expectedVersion": 1,
                "displayName": "  Dr Ada Lane-Smith ",
                "specialty": "Physiotherapy",
                "billingRole": "SUPERVISED",
                "profileImageUrl": "https://cdn.example.com/ada.png",
                "provincialBillingNumber": " 654321 ",
                "groupBillingNumber": "ab12",
                "settings": {"messagingEnabled": False, "defaultRtmStatus": True},
            }
        },
        token=org_a.admin.token,
    )
    result = body["data"]["updateProvider"]
    assert result["errors"] == [], body
    p = result["provider"]
    assert p["displayName"] == "Dr Ada Lane-Smith" and p["specialty"] == "Physiotherapy"
    assert p["billingRole"] == "SUPERVISED" and p["version"] == 2
    assert p["settings"] == {"messagingEnabled": False, "defaultRtmStatus": True}
    assert p["billing"] == {"provincialBillingNumber": "654321", "groupBillingNumber": "AB12"}
    row = await Provider.get(id=prov.id)
    assert row.display_name_key == "dr ada lane-smith"
    event = await AuditEvent.get(action="provider.update", target_id=prov.id)
    assert event.changes["display_name"] == ["Dr Ada Lane", "Dr Ada Lane-Smith"]
    assert event.actor_id == org_a.admin.user.id
    # Stale version: CONFLICT, nothing written.
    body = await gql(
        UPDATE, {"input": {"id": str(prov.id), "expectedVersion": 1, "specialty": "X"}}, token=org_a.admin.token
    )
    assert body["data"]["updateProvider"]["errors"][0]["code"] == "CONFLICT"
    assert (await Provider.get(id=prov.id)).specialty == "Physiotherapy"


async def test_update_provider_validation(gql, factory, org_a) -> None:
    prov = await provider_at(factory, org_a, [org_a.locations[0]], "Dr Ada Lane")

    async def errors(**fields):
        body = await gql(UPDATE, {"input": {"id": str(prov.id), **fields}}, token=org_a.admin.token)
        return [(e["field"][-1], e["code"]) for e in body["data"]["updateProvider"]["errors"]]

    assert await errors(displayName="   ") == [("displayName", "REQUIRED")]
    assert await errors(profileImageUrl="http://cdn.example.com/a.png") == [("profileImageUrl", "INVALID")]
    assert await errors(profileImageUrl="javascript:alert(1)") == [("profileImageUrl", "INVALID")]
    # Ontario (the site's province): 6 digits and 4 alphanumerics.
    assert await errors(provincialBillingNumber="12345", groupBillingNumber="AB-1") == [
        ("provincialBillingNumber", "INVALID"),
        ("groupBillingNumber", "INVALID"),
    ]
    assert (await Provider.get(id=prov.id)).version == 1
    # Clearing the image and a billing number is allowed.
    assert await errors(profileImageUrl=None, provincialBillingNumber="") == []


async def test_billing_numbers_follow_the_first_sites_province(gql, factory, org_a) -> None:
    bc = await factory.location(org_a.organization, "AAA Vancouver")
    bc.address_province = "BC"
    await bc.save()
    prov = await provider_at(factory, org_a, [bc, org_a.locations[0]], "Dr West")
    body = await gql(
        UPDATE, {"input": {"id": str(prov.id), "provincialBillingNumber": "AB12345XY"}}, token=org_a.admin.token
    )
    assert body["data"]["updateProvider"]["errors"] == []
    body = await gql(UPDATE, {"input": {"id": str(prov.id), "groupBillingNumber": "A B"}}, token=org_a.admin.token)
    assert body["data"]["updateProvider"]["errors"][0]["code"] == "INVALID"


async def test_update_needs_the_permission_at_every_site(gql, factory, org_a) -> None:
    a1, a2 = org_a.locations
    both = await provider_at(factory, org_a, [a1, a2], "Dr Both")
    group = await factory.group(org_a.organization, [P.PROVIDERS_READ, P.PROVIDERS_MANAGE], locations=[a1])
    manager = await factory.user(org_a.organization, locations=[a1, a2], groups=[group])
    body = await gql(UPDATE, {"input": {"id": str(both.id), "specialty": "X"}}, token=manager.token)
    assert [e["code"] for e in body["data"]["updateProvider"]["errors"]] == ["FORBIDDEN"]
    assert await AuditEvent.filter(action="provider.update.refused").count() == 1
    assert (await Provider.get(id=both.id)).specialty is None


async def test_nested_clients_paging_arguments_are_checked(gql, factory, org_a) -> None:
    prov = await provider_at(factory, org_a, [org_a.locations[0]], "Dr Ada Lane")
    await make_client(org_a, org_a.locations[0], "C", "One", provider=prov)
    for variables in ({"first": 101}, {"first": -1}, {"after": "garbage"}):
        body = await gql(CLIENTS, {"id": str(prov.id), **variables}, token=org_a.admin.token)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
    body = await gql(CLIENTS, {"id": str(prov.id), "first": 0}, token=org_a.admin.token)
    clients = body["data"]["provider"]["clients"]
    assert clients["edges"] == [] and clients["totalCount"] == 1 and clients["pageInfo"]["hasNextPage"] is False


async def test_location_filter_on_a_location_out_of_sight_is_empty(gql, factory, org_a) -> None:
    a1, a2 = org_a.locations
    await provider_at(factory, org_a, [a1, a2], "Dr Both")
    desk = await staff_with(factory, org_a, [P.PROVIDERS_READ], [a1])
    body = await gql(LIST, {"f": {"locationId": str(a1.id)}}, token=desk.token)
    assert [e["node"]["displayName"] for e in body["data"]["providers"]["edges"]] == ["Dr Both"]
    # The provider also works at A2, which this viewer does not see: the filter must not tell.
    body = await gql(LIST, {"f": {"locationId": str(a2.id)}}, token=desk.token)
    assert body["data"]["providers"]["edges"] == [] and body["data"]["providers"]["totalCount"] == 0


async def test_location_filter_on_an_unknown_or_other_organizations_location_is_empty(
    gql, factory, org_a, org_b
) -> None:
    # The rule of the users filter (resolvers/user_rules.py `at_location_q`): an all-locations
    # provider works at every location of its own organization, not at any id at all; a viewer who
    # sees every location must not get it back for an unknown or another organization's id.
    a1, _ = org_a.locations
    staff = await factory.user(
        org_a.organization, type=UserType.PROVIDER, all_locations=True, last_name="Everywhere", session=False
    )
    await make_provider(staff.user, display_name="Dr Everywhere")
    token = org_a.admin.token
    body = await gql(LIST, {"f": {"locationId": str(a1.id)}}, token=token)
    assert [e["node"]["displayName"] for e in body["data"]["providers"]["edges"]] == ["Dr Everywhere"]
    for junk in (str(org_b.locations[0].id), str(uuid.uuid4())):
        body = await gql(LIST, {"f": {"locationId": junk}}, token=token)
        assert body["data"]["providers"]["edges"] == [] and body["data"]["providers"]["totalCount"] == 0
