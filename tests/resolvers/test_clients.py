"""Clients (article 002) over GraphQL: defaults, validation at the field's path, scoping, the
coverage guard, search and keyset paging, optimistic concurrency, archive, lineage, audit and the
PHI access log."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from models.audit import AuditEvent
from models.clients import Client
from models.enums import ClientStatus, ProviderStatus
from models.organization import Location
from models.providers import Provider
from permissions.catalog import Permission as P
from tests.factories import make_client, make_provider, provider_staff, staff_with
from tests.support import error_codes, nodes, pages

FIELDS = """id firstName lastName preferredLanguage timezone email emailConsent mobile mobileIsPrimary smsConsent
voiceConsent dateOfBirth phones { label number } emergencyContacts { name relationship phone email }
address { line1 city province country } alert status source version location { id name }
primaryProvider { id displayName } portalLinks { relationship } invitations { id }"""

CREATE = (
    "mutation($input: CreateClientInput!) { createClient(input: $input) { client { "
    + FIELDS
    + " coverage { healthCardNumber healthCardCheck } } errors { field message code } } }"
)
UPDATE = (
    "mutation($input: UpdateClientInput!) { updateClient(input: $input) { client { id version firstName mobile"
    " location { id } coverage { healthCardNumber healthCardCheck } } errors { field code } } }"
)
ARCHIVE = "mutation($id: ID!) { archiveClient(input: {id: $id}) { client { id status } errors { field code } } }"
LIST = """query($filter: ClientFilter, $first: Int, $after: String) {
  clients(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id firstName lastName status } }
  }
}"""
ONE = "query($id: ID!) { client(id: $id) { id firstName alert coverage { healthCardNumber } } }"


@pytest.fixture
async def clinic(factory, org_a):
    a1, a2 = org_a.locations
    desk = await staff_with(factory, org_a, [P.CLIENTS_READ, P.CLIENTS_MANAGE], [a1])
    coverage = await staff_with(
        factory,
        org_a,
        [P.CLIENTS_READ, P.CLIENTS_MANAGE, P.CLIENTS_COVERAGE_READ, P.CLIENTS_COVERAGE_MANAGE],
        [a1, a2],
    )
    provider = await provider_staff(factory, org_a, [a1])
    return {"org": org_a, "a1": a1, "a2": a2, "desk": desk, "coverage": coverage, "provider": provider}


@pytest.fixture
def create(gql, clinic):
    """createClient at A1 as the front desk (another `locationId` or `token` when given): the decoded body."""

    async def run(token: str | None = None, **fields) -> dict:
        given = {"locationId": str(clinic["a1"].id), **fields}
        return await gql(CREATE, {"input": given}, token=token or clinic["desk"].token)

    return run


def _errors(body, name):
    return body["data"][name]["errors"]


async def test_create_with_the_articles_defaults(create, clinic):
    body = await create(firstName=" Maya ", lastName="Chen", mobile="(416) 555-0199", email="Maya.Chen@Example.COM")
    assert _errors(body, "createClient") == []
    client = body["data"]["createClient"]["client"]
    assert client["firstName"] == "Maya"
    assert client["emailConsent"] is True and client["smsConsent"] is True and client["voiceConsent"] is False
    assert client["preferredLanguage"] == "en"
    assert client["timezone"] == clinic["a1"].timezone
    assert client["mobile"] == "+14165550199"
    assert client["email"] == "Maya.Chen@example.com"
    assert client["status"] == "ACTIVE" and client["source"] == "STAFF" and client["version"] == 1
    assert client["portalLinks"] == [] and client["invitations"] == []
    row = await Client.get(id=client["id"])
    assert row.first_name_key == "maya" and row.last_name_key == "chen" and row.email_key == "maya.chen@example.com"
    # The desk user may not read coverage: null plus one FORBIDDEN error at its path; nor the
    # invitations: a non-null list, so empty plus one FORBIDDEN error at its path.
    assert client.get("coverage") is None
    assert error_codes(body) == ["FORBIDDEN", "FORBIDDEN"]
    assert sorted(e["path"][-1] for e in body["errors"]) == ["coverage", "invitations"]
    assert all(e["path"][:2] == ["createClient", "client"] for e in body["errors"])


async def test_sms_consent_needs_a_mobile(create):
    body = await create(firstName="A", lastName="B")
    assert _errors(body, "createClient") == [
        {"field": ["input", "mobile"], "message": "A mobile number is needed for SMS consent.", "code": "REQUIRED"}
    ]
    assert await Client.filter(last_name="B").count() == 0
    body = await create(firstName="A", lastName="B", smsConsent=False)
    assert _errors(body, "createClient") == []


@pytest.mark.parametrize(
    ("patch", "path", "code"),
    [
        ({"email": "not-an-email"}, ["input", "email"], "INVALID"),
        ({"mobile": "12"}, ["input", "mobile"], "INVALID"),
        ({"dateOfBirth": (date.today() + timedelta(days=2)).isoformat()}, ["input", "dateOfBirth"], "INVALID"),
        ({"dateOfBirth": "1899-12-31"}, ["input", "dateOfBirth"], "INVALID"),
        ({"preferredLanguage": "english!"}, ["input", "preferredLanguage"], "INVALID"),
        ({"timezone": "Mars/Olympus"}, ["input", "timezone"], "INVALID"),
        ({"timezone": "EST"}, ["input", "timezone"], "INVALID"),
        ({"firstName": "  "}, ["input", "firstName"], "REQUIRED"),
        ({"lastName": "x" * 101}, ["input", "lastName"], "INVALID"),
        ({"phones": [{"label": "work", "number": "abc"}]}, ["input", "phones", "0", "number"], "INVALID"),
        (
            {"emergencyContacts": [{"name": "", "phone": "4165550111"}]},
            ["input", "emergencyContacts", "0", "name"],
            "REQUIRED",
        ),
        ({"address": {"country": "Canada"}}, ["input", "address", "country"], "INVALID"),
        ({"locationId": "not-a-uuid"}, ["input", "locationId"], "NOT_FOUND"),
        ({"locationId": str(uuid.uuid4())}, ["input", "locationId"], "NOT_FOUND"),
        ({"primaryProviderId": str(uuid.uuid4())}, ["input", "primaryProviderId"], "NOT_FOUND"),
        # The desk here holds no CLIENT_PORTAL_MANAGE (tests/api/test_portal.py sends one).
        ({"sendPortalInvitation": True}, ["input", "sendPortalInvitation"], "FORBIDDEN"),
    ],
)
async def test_validation_errors_at_the_fields_path(create, patch, path, code):
    body = await create(**{"firstName": "Ana", "lastName": "Lopez", "mobile": "4165550100", **patch})
    errors = _errors(body, "createClient")
    assert [(e["field"], e["code"]) for e in errors][:1] == [(path, code)], errors
    assert body["data"]["createClient"]["client"] is None
    assert await Client.filter(last_name="Lopez").count() == 0


async def test_language_and_phone_normalized(create):
    body = await create(
        firstName="Éloïse",
        lastName="Roy",
        mobile="514 555 0143",
        preferredLanguage="FR-ca",
        timezone="America/Montreal",
        phones=[{"label": "home", "number": "+33 1 42 68 53 00"}],
        emergencyContacts=[
            {"name": "Luc Roy", "relationship": "spouse", "phone": "514-555-0144", "email": "luc@example.com"}
        ],
    )
    assert _errors(body, "createClient") == []
    client = body["data"]["createClient"]["client"]
    assert client["preferredLanguage"] == "fr-CA" and client["timezone"] == "America/Montreal"
    assert client["phones"] == [{"label": "home", "number": "+33142685300"}]
    assert client["emergencyContacts"] == [
        {"name": "Luc Roy", "relationship": "spouse", "phone": "+15145550144", "email": "luc@example.com"}
    ]


async def test_timezone_and_phone_region_come_from_the_location(gql, clinic):
    """No timezone given: the location's. A phone without a country code is read in the location's
    country: a UK mobile written the UK way is valid at a London site and not at a Toronto one."""
    org = clinic["org"]
    london = await org.factory.location(org.organization, "London site")
    await Location.filter(id=london.id).update(timezone="Europe/London", address_province=None, address_country="GB")
    base = {"firstName": "Ada", "lastName": "Byron", "mobile": "07400 123456"}
    body = await gql(CREATE, {"input": {**base, "locationId": str(london.id)}}, token=org.admin.token)
    assert _errors(body, "createClient") == []
    client = body["data"]["createClient"]["client"]
    assert client["timezone"] == "Europe/London" and client["mobile"] == "+447400123456"
    body = await gql(CREATE, {"input": {**base, "locationId": str(clinic["a1"].id)}}, token=org.admin.token)
    assert [(e["field"], e["code"]) for e in _errors(body, "createClient")] == [(["input", "mobile"], "INVALID")]


async def test_location_must_be_active_in_scope_and_managed(gql, clinic, factory, org_b):
    closed = await factory.location(clinic["org"].organization, "Closed site", active=False)
    base = {"firstName": "Ana", "lastName": "Lopez", "smsConsent": False}
    # A2 is outside the desk user's sites: it does not exist for them.
    body = await gql(CREATE, {"input": {**base, "locationId": str(clinic["a2"].id)}}, token=clinic["desk"].token)
    assert [e["code"] for e in _errors(body, "createClient")] == ["NOT_FOUND"]
    body = await gql(
        CREATE, {"input": {**base, "locationId": str(org_b.locations[0].id)}}, token=clinic["org"].admin.token
    )
    assert [e["code"] for e in _errors(body, "createClient")] == ["NOT_FOUND"]
    body = await gql(CREATE, {"input": {**base, "locationId": str(closed.id)}}, token=clinic["org"].admin.token)
    assert [e["code"] for e in _errors(body, "createClient")] == ["INVALID"]
    # Visible (a site of theirs) but CLIENTS_MANAGE only at A1: FORBIDDEN, and recorded.
    reader = await staff_with(factory, clinic["org"], [P.CLIENTS_READ], [clinic["a1"]])
    manage_a2 = await factory.group(clinic["org"].organization, [P.CLIENTS_MANAGE], locations=[clinic["a2"]])
    both = await factory.user(
        clinic["org"].organization,
        locations=[clinic["a1"], clinic["a2"]],
        groups=[manage_a2, await factory.group(clinic["org"].organization, [P.CLIENTS_READ])],
    )
    body = await gql(CREATE, {"input": {**base, "locationId": str(clinic["a1"].id)}}, token=both.token)
    assert [e["code"] for e in _errors(body, "createClient")] == ["FORBIDDEN"]
    assert await AuditEvent.filter(action="client.create.refused", actor_id=both.user.id).count() == 1
    body = await gql(CREATE, {"input": {**base, "locationId": str(clinic["a1"].id)}}, token=reader.token)
    assert error_codes(body) == ["FORBIDDEN"]  # no CLIENTS_MANAGE anywhere: refused before the resolver


async def test_primary_provider_active_and_practising_there(gql, clinic, factory):
    org = clinic["org"]
    base = {"firstName": "Ana", "lastName": "Lopez", "smsConsent": False}
    provider = await make_provider(clinic["provider"].user)
    ok = await gql(
        CREATE,
        {"input": {**base, "locationId": str(clinic["a1"].id), "primaryProviderId": str(provider.id)}},
        token=org.admin.token,
    )
    assert _errors(ok, "createClient") == []
    assert ok["data"]["createClient"]["client"]["primaryProvider"]["displayName"] == "Dana Reyes"
    # Works at A1 only: not a provider for an A2 client.
    body = await gql(
        CREATE,
        {"input": {**base, "locationId": str(clinic["a2"].id), "primaryProviderId": str(provider.id)}},
        token=org.admin.token,
    )
    assert [(e["field"], e["code"]) for e in _errors(body, "createClient")] == [
        (["input", "primaryProviderId"], "INVALID")
    ]
    gone = await provider_staff(factory, org, [clinic["a1"]], name="Old Timer")
    await (await make_provider(gone.user)).filter(user_id=gone.user.id).update(status=ProviderStatus.INACTIVE)
    retired = await make_provider(gone.user)
    body = await gql(
        CREATE,
        {"input": {**base, "locationId": str(clinic["a1"].id), "primaryProviderId": str(retired.id)}},
        token=org.admin.token,
    )
    assert [e["code"] for e in _errors(body, "createClient")] == ["INVALID"]


async def test_a_provider_past_its_deactivation_date_is_inactive_before_the_job_runs(gql, clinic, factory):
    """docs/architecture.md "Data": correctness never waits on a job. A scheduled date that has passed makes the
    provider
    inactive for choosing a primary provider, on create, on update and when a move keeps the provider."""
    org, a1 = clinic["org"], clinic["a1"]
    leaving = await make_provider((await provider_staff(factory, org, [a1, clinic["a2"]], name="Lee Ving")).user)
    await Provider.filter(id=leaving.id).update(
        status=ProviderStatus.DEACTIVATION_SCHEDULED, deactivate_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    base = {"firstName": "Ana", "lastName": "Lopez", "smsConsent": False, "locationId": str(a1.id)}
    body = await gql(CREATE, {"input": {**base, "primaryProviderId": str(leaving.id)}}, token=org.admin.token)
    assert [(e["field"], e["code"]) for e in _errors(body, "createClient")] == [
        (["input", "primaryProviderId"], "INVALID")
    ]
    client = await make_client(org, a1, "Kai", "Moss", provider=leaving)
    body = await gql(
        UPDATE, {"input": {"id": str(client.id), "primaryProviderId": str(leaving.id)}}, token=org.admin.token
    )
    assert [(e["field"], e["code"]) for e in _errors(body, "updateClient")] == [
        (["input", "primaryProviderId"], "INVALID")
    ]
    body = await gql(
        UPDATE, {"input": {"id": str(client.id), "locationId": str(clinic["a2"].id)}}, token=org.admin.token
    )
    assert [(e["field"], e["code"]) for e in _errors(body, "updateClient")] == [
        (["input", "primaryProviderId"], "INVALID")
    ]
    # Still ahead: the provider is active until then.
    await Provider.filter(id=leaving.id).update(deactivate_at=datetime.now(UTC) + timedelta(days=1))
    body = await gql(CREATE, {"input": {**base, "primaryProviderId": str(leaving.id)}}, token=org.admin.token)
    assert _errors(body, "createClient") == []


async def test_coverage_write_and_read_are_guarded(gql, clinic):
    card = {"healthCardProvince": "ON", "healthCardNumber": "9876 543 217", "healthCardVersion": "ab"}
    base = {"firstName": "Omar", "lastName": "Haddad", "locationId": str(clinic["a1"].id), "smsConsent": False}
    body = await gql(CREATE, {"input": {**base, "coverage": card}}, token=clinic["desk"].token)
    assert [(e["field"], e["code"]) for e in _errors(body, "createClient")] == [(["input", "coverage"], "FORBIDDEN")]
    body = await gql(CREATE, {"input": {**base, "coverage": card}}, token=clinic["coverage"].token)
    assert _errors(body, "createClient") == []
    # Coverage is readable; only the invitations (CLIENT_PORTAL_MANAGE, not held) are refused.
    assert [e["path"][-1] for e in body.get("errors", [])] == ["invitations"]
    client = body["data"]["createClient"]["client"]
    assert client["coverage"] == {"healthCardNumber": "9876543217", "healthCardCheck": "VALID"}
    row = await Client.get(id=client["id"])
    assert row.health_card_version == "AB"
    event = await AuditEvent.get(action="client.create", target_id=client["id"])
    assert event.changes["health_card_number"] == [None, "…3217"]
    # The alert shows to anyone who may see the client; coverage does not.
    await Client.filter(id=client["id"]).update(alert="Latex allergy")
    body = await gql(ONE, {"id": client["id"]}, token=clinic["desk"].token)
    assert body["data"]["client"]["alert"] == "Latex allergy"
    assert body["data"]["client"]["coverage"] is None
    assert error_codes(body) == ["FORBIDDEN"] and body["errors"][0]["path"] == ["client", "coverage"]


async def test_health_card_check_is_set_on_save(gql, clinic):
    base = {"firstName": "Ivy", "lastName": "Tran", "locationId": str(clinic["a1"].id), "smsConsent": False}
    body = await gql(
        CREATE,
        {"input": {**base, "coverage": {"healthCardProvince": "BC", "healthCardNumber": "9698658216"}}},
        token=clinic["coverage"].token,
    )
    client = body["data"]["createClient"]["client"]
    assert client["coverage"]["healthCardCheck"] == "INVALID_CHECK_DIGIT"
    body = await gql(
        UPDATE,
        {"input": {"id": client["id"], "coverage": {"healthCardNumber": "9698658215"}}},
        token=clinic["coverage"].token,
    )
    assert body["data"]["updateClient"]["client"]["coverage"]["healthCardCheck"] == "VALID"
    body = await gql(
        UPDATE,
        {"input": {"id": client["id"], "coverage": {"healthCardProvince": "MB"}}},
        token=clinic["coverage"].token,
    )
    assert body["data"]["updateClient"]["client"]["coverage"]["healthCardCheck"] == "NOT_CHECKED"
    event = await AuditEvent.filter(action="client.update", target_id=client["id"]).order_by("occurred_at").first()
    assert event.changes["health_card_number"] == ["…8216", "…8215"]


async def test_clients_are_scoped_and_searchable(gql, clinic, org_b):
    org = clinic["org"]
    await make_client(org, clinic["a1"], "Maya", "Chen", email="maya@example.com", mobile="+14165550199")
    await make_client(org, clinic["a1"], "Mark", "Chenier")
    await make_client(org, clinic["a1"], "Zoe", "Adams", preferred_name="Zed")
    await make_client(org, clinic["a2"], "Carl", "Chen")
    await make_client(org, clinic["a1"], "Old", "Chen", status=ClientStatus.ARCHIVED)
    await make_client(org_b, org_b.locations[0], "Other", "Chen")

    async def names(filter, token):
        body = await gql(LIST, {"filter": filter}, token=token)
        assert error_codes(body) == [], body
        conn = body["data"]["clients"]
        assert conn["totalCount"] == len(conn["edges"])
        return [f"{e['node']['firstName']} {e['node']['lastName']}" for e in conn["edges"]]

    desk, admin = clinic["desk"].token, org.admin.token
    assert await names(None, desk) == ["Zoe Adams", "Maya Chen", "Mark Chenier"]
    assert await names(None, admin) == ["Zoe Adams", "Carl Chen", "Maya Chen", "Mark Chenier"]
    assert await names({"search": "CHEN"}, desk) == ["Maya Chen", "Mark Chenier"]
    assert await names({"search": "ma"}, desk) == ["Maya Chen", "Mark Chenier"]
    assert await names({"search": "zed"}, desk) == ["Zoe Adams"]
    assert await names({"search": "maya@ex"}, desk) == ["Maya Chen"]
    assert await names({"search": "416 555 0199"}, desk) == ["Maya Chen"]
    assert await names({"search": "416555"}, desk) == ["Maya Chen"]
    assert await names({"status": ["ARCHIVED"]}, desk) == ["Old Chen"]
    assert await names({"locationId": str(clinic["a2"].id)}, desk) == []
    assert await names({"locationId": str(clinic["a2"].id)}, admin) == ["Carl Chen"]
    assert await names({"locationId": "garbage"}, admin) == []


async def test_keyset_pages_and_first_bounds(gql, clinic):
    org = clinic["org"]
    for i in range(7):
        await make_client(org, clinic["a1"], f"Pat{i}", "Same")
    got = await pages(gql, LIST, {"first": 3}, "clients", token=clinic["desk"].token)
    assert all(conn["totalCount"] == 7 for conn in got)
    assert nodes(got, "firstName") == [f"Pat{i}" for i in range(7)]
    for first in (101, -1):
        body = await gql(LIST, {"first": first}, token=clinic["desk"].token)
        assert error_codes(body) == ["BAD_USER_INPUT"] and body["data"] is None
    body = await gql(LIST, {"after": "not-a-cursor"}, token=clinic["desk"].token)
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_my_clients_and_read_own_scope(gql, clinic):
    org, provider_staff_ = clinic["org"], clinic["provider"]
    mine = await make_provider(provider_staff_.user)
    other = await make_provider((await staff_with_provider(clinic)).user)
    await make_client(org, clinic["a1"], "Mine", "One", provider=mine)
    await make_client(org, clinic["a1"], "Theirs", "Two", provider=other)
    await make_client(org, clinic["a2"], "Mine", "Elsewhere", provider=mine)  # READ_OWN held at A1 only
    body = await gql("{ myClients { totalCount edges { node { firstName lastName } } } }", token=provider_staff_.token)
    assert [e["node"]["lastName"] for e in body["data"]["myClients"]["edges"]] == ["One"]
    assert body["data"]["myClients"]["totalCount"] == 1
    # "All Clients" needs CLIENTS_READ.
    body = await gql(LIST, {}, token=provider_staff_.token)
    assert error_codes(body) == ["FORBIDDEN"]
    # A client of another provider is hidden from them.
    theirs = await Client.get(last_name="Two")
    body = await gql(ONE, {"id": str(theirs.id)}, token=provider_staff_.token)
    assert body["data"]["client"] is None and error_codes(body) == []
    # The desk user (CLIENTS_READ, not a provider) has an empty "My Clients".
    body = await gql("{ myClients { totalCount edges { node { id } } } }", token=clinic["desk"].token)
    assert body["data"]["myClients"] == {"totalCount": 0, "edges": []}


async def staff_with_provider(clinic):
    from tests.factories import Factory

    return await provider_staff(Factory(), clinic["org"], [clinic["a1"]], name="Sam Other")


async def test_health_card_filter_needs_coverage_read(gql, clinic):
    org = clinic["org"]
    await make_client(org, clinic["a1"], "Card", "Holder", health_card_number="9876543217", health_card_province="ON")
    body = await gql(LIST, {"filter": {"healthCardNumber": "9876-543-217"}}, token=clinic["desk"].token)
    assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None
    body = await gql(LIST, {"filter": {"healthCardNumber": "9876-543-217"}}, token=clinic["coverage"].token)
    assert [e["node"]["lastName"] for e in body["data"]["clients"]["edges"]] == ["Holder"]


async def test_update_with_expected_version_and_moves(gql, clinic, factory):
    org = clinic["org"]
    client = await make_client(org, clinic["a1"], "Lee", "Park", mobile="+14165550100", sms_consent=True)
    cid = str(client.id)
    body = await gql(
        UPDATE, {"input": {"id": cid, "expectedVersion": 1, "firstName": "Leo"}}, token=clinic["desk"].token
    )
    assert _errors(body, "updateClient") == []
    assert body["data"]["updateClient"]["client"]["version"] == 2
    body = await gql(
        UPDATE, {"input": {"id": cid, "expectedVersion": 1, "firstName": "Lia"}}, token=clinic["desk"].token
    )
    assert [(e["field"], e["code"]) for e in _errors(body, "updateClient")] == [
        (["input", "expectedVersion"], "CONFLICT")
    ]
    assert (await Client.get(id=cid)).first_name == "Leo"
    # Clearing the mobile while SMS consent stays on is refused.
    body = await gql(UPDATE, {"input": {"id": cid, "mobile": None}}, token=clinic["desk"].token)
    assert [(e["field"], e["code"]) for e in _errors(body, "updateClient")] == [(["input", "mobile"], "REQUIRED")]
    # Moving to A2 needs CLIENTS_MANAGE there too: the desk user does not even see A2.
    body = await gql(UPDATE, {"input": {"id": cid, "locationId": str(clinic["a2"].id)}}, token=clinic["desk"].token)
    assert [e["code"] for e in _errors(body, "updateClient")] == ["NOT_FOUND"]
    body = await gql(UPDATE, {"input": {"id": cid, "locationId": str(clinic["a2"].id)}}, token=clinic["coverage"].token)
    assert _errors(body, "updateClient") == []
    assert body["data"]["updateClient"]["client"]["location"]["id"] == str(clinic["a2"].id)
    event = await AuditEvent.filter(action="client.update", target_id=cid).order_by("-occurred_at").first()
    assert event.changes["location_id"] == [str(clinic["a1"].id), str(clinic["a2"].id)]
    # Now at A2, the client is out of the desk user's scope: NOT_FOUND like a random id.
    for target in (cid, str(uuid.uuid4()), "nope"):
        body = await gql(UPDATE, {"input": {"id": target, "firstName": "X"}}, token=clinic["desk"].token)
        assert [(e["field"], e["code"]) for e in _errors(body, "updateClient")] == [(["input", "id"], "NOT_FOUND")]


async def test_archive(gql, clinic, org_b):
    client = await make_client(clinic["org"], clinic["a1"], "Ari", "Stone")
    body = await gql(ARCHIVE, {"id": str(client.id)}, token=org_b.admin.token)
    assert [e["code"] for e in _errors(body, "archiveClient")] == ["NOT_FOUND"]
    body = await gql(ARCHIVE, {"id": str(client.id)}, token=clinic["desk"].token)
    assert body["data"]["archiveClient"] == {"client": {"id": str(client.id), "status": "ARCHIVED"}, "errors": []}
    row = await Client.get(id=client.id)
    assert row.status is ClientStatus.ARCHIVED and row.version == 2
    assert await AuditEvent.filter(action="client.archive", target_id=client.id).count() == 1
    body = await gql(LIST, {}, token=clinic["desk"].token)
    assert body["data"]["clients"]["edges"] == []


async def test_merge_lineage_through_loaders(gql, clinic):
    org = clinic["org"]
    survivor = await make_client(org, clinic["a1"], "Rosa", "Diaz")
    merged = await make_client(
        org, clinic["a1"], "Rosa", "Dias", status=ClientStatus.MERGED, merged_into_id=survivor.id
    )
    hidden = await make_client(
        org, clinic["a2"], "Rosa", "Diaz-2", status=ClientStatus.MERGED, merged_into_id=survivor.id
    )
    query = "query($id: ID!) { client(id: $id) { lastName mergedInto { lastName } mergedFrom { lastName } } }"
    body = await gql(query, {"id": str(survivor.id)}, token=clinic["desk"].token)
    assert body["data"]["client"] == {"lastName": "Diaz", "mergedInto": None, "mergedFrom": [{"lastName": "Dias"}]}
    body = await gql(query, {"id": str(merged.id)}, token=clinic["desk"].token)
    assert body["data"]["client"]["mergedInto"] == {"lastName": "Diaz"}
    body = await gql(query, {"id": str(survivor.id)}, token=clinic["org"].admin.token)
    assert sorted(c["lastName"] for c in body["data"]["client"]["mergedFrom"]) == ["Dias", "Diaz-2"]
    assert hidden.id


async def test_one_phi_access_event_per_request(gql, clinic):
    org = clinic["org"]
    a = await make_client(org, clinic["a1"], "Amy", "Alpha")
    b = await make_client(org, clinic["a1"], "Ben", "Beta")
    query = "{ clients { edges { node { id coverage { healthCardNumber } } } } }"
    await gql(query, token=clinic["coverage"].token)
    events = await AuditEvent.filter(action="client.read")
    assert len(events) == 1
    assert events[0].actor_id == clinic["coverage"].user.id
    assert events[0].changes == {
        "clientIds": sorted([str(a.id), str(b.id)]),
        "coverageClientIds": sorted([str(a.id), str(b.id)]),
    }
    # The desk user gets the clients but not their coverage: no coverage flagged.
    await gql(query, token=clinic["desk"].token)
    event = await AuditEvent.get(action="client.read", actor_id=clinic["desk"].user.id)
    assert event.changes["coverageClientIds"] == [] and len(event.changes["clientIds"]) == 2
    assert event.request_id
    # Nothing returned, nothing logged.
    await gql('{ clients(filter: {search: "zzz"}) { totalCount } }', token=clinic["desk"].token)
    assert await AuditEvent.filter(action="client.read").count() == 2


async def test_resolvers_run_without_graphql(clinic, settings):
    """The resolvers are plain functions of (ctx, data): no Strawberry types needed."""
    from resolvers import clients as resolvers
    from resolvers.client_input import ClientFilterData, CreateClientData, UpdateClientData
    from resolvers.context import RequestContext
    from resolvers.errors import InputError
    from resolvers.inputs import from_input
    from resolvers.sessions import authenticate_staff

    ctx = RequestContext(
        settings=settings, request_id="direct", token=clinic["desk"].token, authenticate=authenticate_staff
    )
    client = await resolvers.create_client(
        ctx, CreateClientData(first_name="Noa", last_name="Levi", location_id=str(clinic["a1"].id), sms_consent=False)
    )
    assert client.timezone == clinic["a1"].timezone and client.email_consent is True
    updated = await resolvers.update_client(
        ctx, UpdateClientData(id=str(client.id), expected_version=1, alert="Call first")
    )
    assert updated.version == 2 and updated.alert == "Call first"
    updated = await resolvers.update_client(
        ctx,
        from_input(
            {
                "id": str(client.id),
                "phones": [{"label": "work", "number": "416-555-0123"}],
                "address": {"line1": "1 Main St", "province": "ca-on", "country": "ca"},
            },
            UpdateClientData,
        ),
    )
    row = await Client.get(id=client.id)
    assert row.phones == [{"label": "work", "number": "+14165550123"}] and row.version == 3
    assert (row.address_province, row.address_country) == ("ON", "CA")
    client.version = 3
    with pytest.raises(InputError) as refused:
        await resolvers.update_client(ctx, UpdateClientData(id=str(client.id), expected_version=2, alert="x"))
    assert [p.code.value for p in refused.value.problems] == ["CONFLICT"]
    query = await resolvers.clients_query(ctx, ClientFilterData(search="lev"))
    assert [c.id for c in await query] == [client.id]
    assert await resolvers.get_client(ctx, "not-a-uuid") is None
