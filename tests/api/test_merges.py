"""Online registrations, duplicate suggestions and the reversible merge over HTTP (article 001,
issue 11). The races run on PostgreSQL in test_merges_concurrency.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from models.audit import AuditEvent
from models.clients import Client
from models.enums import ClientSource, ClientStatus, ProxyRelationship
from models.merges import ClientMerge
from models.portal import ClientInvitation, ClientPortalLink, PortalAccount
from permissions.catalog import Permission as P
from resolvers.credentials import LINK_TOKEN_PREFIX, new_token, token_hash
from tests.factories import PASSWORD, Factory, Org, make_client, staff_with
from tests.support import GQL, error_codes, mailed_token, payload_codes

SIGN_UP = """mutation($i: PortalSignUpInput!) { portalSignUp(input: $i) {
  token account { email } errors { field code } } }"""
REGISTRATIONS = """query($first: Int, $after: String) { onlineRegistrations(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id firstName status source } } } }"""
DUPLICATES = "query($id: ID!) { clientDuplicates(clientId: $id) { score reasons client { id firstName } } }"
MERGE = """mutation($i: MergeClientsInput!) { mergeClients(input: $i) {
  client { id version email mobile pronouns mergedFrom { id status } portalLinks { relationship account { email } } }
  errors { field code } warnings { field code } } }"""
UNMERGE = """mutation($id: ID!) { unmergeClient(input: {id: $id}) {
  client { id status mergedInto { id } portalLinks { relationship } invitations { email } }
  errors { code message } } }"""
APPROVE = "mutation($id: ID!) { approveRegistration(input: {id: $id}) { client { status version } errors { code } } }"
CLIENT = "query($id: ID!) { client(id: $id) { id status mergedInto { id } mergedFrom { id } pronouns } }"
UPDATE = "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { version } errors { code } } }"
VIEWER = "{ viewer { portalAccount { links { relationship client { id status } } } } }"
INVITE = """mutation($i: InviteClientUserInput!) { inviteClientUser(input: $i) { errors { code } } }"""
ACCEPT = """mutation($i: AcceptClientInvitationInput!) { acceptClientInvitation(input: $i) {
  link { client { id } } errors { field code } } }"""


@pytest.fixture
async def clinic(factory: Factory, org_a: Org) -> dict[str, Any]:
    a1, a2 = org_a.locations
    reviewer = await staff_with(
        factory, org_a, [P.CLIENTS_READ, P.CLIENTS_MANAGE, P.CLIENTS_MERGE, P.CLIENT_PORTAL_MANAGE], [a1, a2]
    )
    clerk = await staff_with(factory, org_a, [P.CLIENTS_READ, P.CLIENTS_MERGE, P.CLIENTS_COVERAGE_READ], [a1, a2])
    existing = await make_client(
        org_a,
        a1,
        "Zoé",
        "Tremblay",
        date_of_birth=date(1984, 6, 30),
        mobile="+14165550142",
        health_card_province="ON",
        health_card_number="1234567890",
    )
    return {"reviewer": reviewer, "clerk": clerk, "existing": existing, "a1": a1, "a2": a2}


def sign_up_input(location_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "organizationSlug": "clinic-a",
        "email": "zoe.t@example.org",
        "password": PASSWORD,
        "firstName": "Zoe",
        "lastName": "Tremblai",
        "dateOfBirth": "1984-06-30",
        "mobile": "416 555 0142",
        "locationId": location_id,
        **extra,
    }


async def sign_up(gql: GQL, location_id: str, **extra: Any) -> dict[str, Any]:
    return (await gql(SIGN_UP, {"i": sign_up_input(location_id, **extra)}))["data"]["portalSignUp"]


async def test_sign_up_makes_an_account_and_a_registration_for_staff_to_review(gql: GQL, clinic) -> None:
    signed = await sign_up(gql, str(clinic["a1"].id))
    assert signed["errors"] == [] and signed["token"].startswith("tsp_")
    viewer = (await gql(VIEWER, token=signed["token"]))["data"]["viewer"]
    [link] = viewer["portalAccount"]["links"]
    assert link["relationship"] == "SELF" and link["client"]["status"] == "PENDING_REVIEW"
    row = await Client.get(id=link["client"]["id"])
    assert row.source is ClientSource.ONLINE_REGISTRATION and row.mobile == "+14165550142"
    assert row.location_id == clinic["a1"].id and row.timezone == clinic["a1"].timezone

    listed = (await gql(REGISTRATIONS, {}, token=clinic["reviewer"].token))["data"]["onlineRegistrations"]
    assert [e["node"]["id"] for e in listed["edges"]] == [str(row.id)]
    approved = (await gql(APPROVE, {"id": str(row.id)}, token=clinic["reviewer"].token))["data"]
    assert approved["approveRegistration"]["client"]["status"] == "ACTIVE"
    again = (await gql(APPROVE, {"id": str(row.id)}, token=clinic["reviewer"].token))["data"]
    assert payload_codes(again["approveRegistration"]) == ["INVALID"]
    listed = (await gql(REGISTRATIONS, {}, token=clinic["reviewer"].token))["data"]["onlineRegistrations"]
    assert listed["totalCount"] == 0


async def test_sign_up_validates_like_create_client_and_a_taken_email_takes_nothing_over(
    gql: GQL, factory: Factory, org_a: Org, clinic
) -> None:
    where = str(clinic["a1"].id)
    bad = await sign_up(
        gql, where, email="not-an-email", dateOfBirth="2999-01-01", mobile="12", password="short", firstName=" "
    )
    assert sorted((tuple(e["field"]), e["code"]) for e in bad["errors"]) == [
        (("input", "dateOfBirth"), "INVALID"),
        (("input", "email"), "INVALID"),
        (("input", "firstName"), "REQUIRED"),
        (("input", "mobile"), "INVALID"),
        (("input", "password"), "PASSWORD_TOO_WEAK"),
    ]
    nowhere = await sign_up(gql, str(org_a.organization.id))
    assert [(e["field"], e["code"]) for e in nowhere["errors"]] == [(["input", "locationId"], "NOT_FOUND")]
    owner = await factory.portal_account(org_a, "zoe.t@example.org", first_name="Zoé")
    before = await PortalAccount.get(id=owner.account.id)
    clients_before = await Client.all().count()
    taken = await sign_up(gql, where, email="ZOE.T@example.org", password="another-long-passphrase")
    assert payload_codes(taken) == ["DUPLICATE"] and taken["token"] is None
    after = await PortalAccount.get(id=owner.account.id)
    assert (after.password_hash, after.first_name) == (before.password_hash, before.first_name)
    assert await Client.all().count() == clients_before and not await ClientPortalLink.exists()


async def test_sign_up_is_throttled_like_login(gql: GQL, factory: Factory, org_a: Org, clinic) -> None:
    await factory.portal_account(org_a, "zoe.t@example.org")
    codes = [payload_codes(await sign_up(gql, str(clinic["a1"].id))) for _ in range(6)]
    assert codes == [["DUPLICATE"]] * 5 + [["LOGIN_THROTTLED"]]
    # The IP is throttled for other emails too: probing a list of addresses stops there.
    fresh = await sign_up(gql, str(clinic["a1"].id), email="someone.else@example.org")
    assert payload_codes(fresh) == ["LOGIN_THROTTLED"]


async def test_registrations_are_newest_first_and_paged(gql: GQL, org_a: Org, clinic) -> None:
    made = []
    for n in range(3):
        row = await make_client(
            org_a,
            clinic["a1"],
            f"R{n}",
            "Reg",
            status=ClientStatus.PENDING_REVIEW,
            source=ClientSource.ONLINE_REGISTRATION,
        )
        await Client.filter(id=row.id).update(created_at=datetime(2026, 1, 1 + n, tzinfo=UTC))
        made.append(str(row.id))
    seen: list[str] = []
    after = None
    while True:
        page = (await gql(REGISTRATIONS, {"first": 2, "after": after}, token=clinic["reviewer"].token))["data"]
        page = page["onlineRegistrations"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == made[::-1]


async def test_duplicates_tolerate_accents_and_typos_and_show_the_health_card_only_to_coverage_readers(
    gql: GQL, org_a: Org, clinic
) -> None:
    registration = await make_client(
        org_a,
        clinic["a2"],
        "Zoe",
        "Tremblai",
        date_of_birth=date(1984, 6, 30),
        mobile="+14165550142",
        health_card_number="1234567890",
        status=ClientStatus.PENDING_REVIEW,
    )
    await make_client(org_a, clinic["a1"], "Marc", "Dubois", date_of_birth=date(1990, 1, 1))
    body = await gql(DUPLICATES, {"id": str(registration.id)}, token=clinic["reviewer"].token)
    [candidate] = body["data"]["clientDuplicates"]
    assert candidate["client"]["id"] == str(clinic["existing"].id)
    assert set(candidate["reasons"]) == {"similar name", "same date of birth", "same mobile"}
    assert 0.7 < candidate["score"] <= 1
    with_card = await gql(DUPLICATES, {"id": str(registration.id)}, token=clinic["clerk"].token)
    [candidate] = with_card["data"]["clientDuplicates"]
    assert "same health card" in candidate["reasons"]
    # The candidates shown are client reads: in the PHI access log.
    read = await AuditEvent.filter(action="client.read").order_by("-occurred_at").first()
    assert read is not None and str(clinic["existing"].id) in str(read.changes)
    wrong = await gql(
        "query($id: ID!) { clientDuplicates(clientId: $id, limit: 0) { score } }",
        {"id": str(registration.id)},
        token=clinic["reviewer"].token,
    )
    assert error_codes(wrong) == ["BAD_USER_INPUT"]


async def _pending_invitation(org: Org, client: Client, email: str) -> ClientInvitation:
    """A pending invitation of `client` for a parent at `email`, as staff make one."""
    return await ClientInvitation.create(
        organization_id=org.organization.id,
        client=client,
        email=email,
        relationship=ProxyRelationship.PARENT,
        token_hash=token_hash(new_token(LINK_TOKEN_PREFIX)),
        expires_at=datetime.now(UTC) + timedelta(days=2),
    )


async def _registration_with_portal(factory: Factory, org: Org, location: Any) -> tuple[Client, Any]:
    """A registration with its own account (SELF) and a pending invitation for a parent."""
    registration = await make_client(
        org,
        location,
        "Zoe",
        "Tremblai",
        email="zoe.t@example.org",
        pronouns="she/her",
        status=ClientStatus.PENDING_REVIEW,
        source=ClientSource.ONLINE_REGISTRATION,
    )
    portal = await factory.portal_account(org, "zoe.t@example.org", [(registration, ProxyRelationship.SELF)])
    await _pending_invitation(org, registration, "mum@example.org")
    return registration, portal


async def test_merge_moves_links_and_invitations_fills_empty_fields_and_unmerge_puts_them_back(
    gql: GQL, factory: Factory, org_a: Org, clinic
) -> None:
    existing, token = clinic["existing"], clinic["reviewer"].token
    # Zoé's email on file is the one her account proved: her sign-up's link may move (see below).
    existing.email = "zoe.t@example.org"
    await existing.save()
    registration, portal = await _registration_with_portal(factory, org_a, clinic["a1"])
    stale = await gql(
        MERGE,
        {"i": {"sourceId": str(registration.id), "targetId": str(existing.id), "expectedVersion": 7}},
        token=token,
    )
    assert payload_codes(stale["data"]["mergeClients"]) == ["CONFLICT"]

    body = await gql(MERGE, {"i": {"sourceId": str(registration.id), "targetId": str(existing.id)}}, token=token)
    merged = body["data"]["mergeClients"]
    assert merged["errors"] == [], body
    survivor = merged["client"]
    assert survivor["pronouns"] == "she/her"  # filled
    assert survivor["mobile"] == "+14165550142"  # not empty: kept
    assert survivor["mergedFrom"] == [{"id": str(registration.id), "status": "MERGED"}]
    assert [link["account"]["email"] for link in survivor["portalLinks"]] == ["zoe.t@example.org"]
    assert await ClientInvitation.filter(client_id=existing.id).count() == 1
    # The old id still answers, saying where it went; the portal account now sees the survivor.
    old = (await gql(CLIENT, {"id": str(registration.id)}, token=token))["data"]["client"]
    assert old["status"] == "MERGED" and old["mergedInto"] == {"id": str(existing.id)}
    links = (await gql(VIEWER, token=portal.token))["data"]["viewer"]["portalAccount"]["links"]
    assert [link["client"]["id"] for link in links] == [str(existing.id)]
    event = await AuditEvent.filter(action="client.merge").get()
    assert event.changes["source"] == str(registration.id) and "pronouns" in event.changes

    # An edit to the survivor after the merge stays on it; an untouched filled field goes back.
    version = survivor["version"]
    edit = await gql(
        UPDATE, {"i": {"id": str(existing.id), "expectedVersion": version, "pronouns": "they/them"}}, token=token
    )
    assert edit["data"]["updateClient"]["errors"] == []
    body = await gql(UNMERGE, {"id": str(registration.id)}, token=token)
    restored = body["data"]["unmergeClient"]
    assert restored["errors"] == [], body
    assert restored["client"]["status"] == "PENDING_REVIEW" and restored["client"]["mergedInto"] is None
    assert [link["relationship"] for link in restored["client"]["portalLinks"]] == ["SELF"]
    assert [i["email"] for i in restored["client"]["invitations"]] == ["mum@example.org"]
    after = await Client.get(id=existing.id)
    assert after.pronouns == "they/them" and after.email == "zoe.t@example.org"
    links = (await gql(VIEWER, token=portal.token))["data"]["viewer"]["portalAccount"]["links"]
    assert [link["client"]["id"] for link in links] == [str(registration.id)]
    again = await gql(UNMERGE, {"id": str(registration.id)}, token=token)
    assert payload_codes(again["data"]["unmergeClient"]) == ["INVALID"]


async def test_merge_refusals(gql: GQL, org_a: Org, clinic) -> None:
    existing, token = clinic["existing"], clinic["reviewer"].token
    archived = await make_client(org_a, clinic["a1"], "Old", "Gone", status=ClientStatus.ARCHIVED)
    other = await make_client(org_a, clinic["a1"], "Zoey", "Tremblay")

    async def merge(source: Client, target: Client) -> list[tuple[list[str], str]]:
        body = await gql(MERGE, {"i": {"sourceId": str(source.id), "targetId": str(target.id)}}, token=token)
        return [(e["field"], e["code"]) for e in body["data"]["mergeClients"]["errors"]]

    assert await merge(existing, existing) == [(["input", "targetId"], "INVALID")]
    assert await merge(other, archived) == [(["input", "targetId"], "INVALID")]
    assert await merge(archived, other) == [(["input", "sourceId"], "INVALID")]
    assert await merge(other, existing) == []
    assert await merge(existing, other) == [(["input", "targetId"], "INVALID")]  # merged into existing now
    assert await Client.filter(status=ClientStatus.MERGED).count() == 1


async def test_a_chain_unmerges_last_merge_first_and_within_thirty_days(gql: GQL, org_a: Org, clinic) -> None:
    token = clinic["reviewer"].token
    a = await make_client(org_a, clinic["a1"], "Ana", "Chain")
    b = await make_client(org_a, clinic["a1"], "Ana", "Chaine")
    c = await make_client(org_a, clinic["a1"], "Anna", "Chain")
    for source, target in ((a, b), (b, c)):
        body = await gql(MERGE, {"i": {"sourceId": str(source.id), "targetId": str(target.id)}}, token=token)
        assert body["data"]["mergeClients"]["errors"] == []
    first = await gql(UNMERGE, {"id": str(a.id)}, token=token)
    assert payload_codes(first["data"]["unmergeClient"]) == ["INVALID"]
    assert "undo that merge first" in first["data"]["unmergeClient"]["errors"][0]["message"]
    lineage = (await gql(CLIENT, {"id": str(c.id)}, token=token))["data"]["client"]
    assert lineage["mergedFrom"] == [{"id": str(b.id)}]
    assert (await gql(UNMERGE, {"id": str(b.id)}, token=token))["data"]["unmergeClient"]["errors"] == []
    # A month later, the first merge can no longer be undone.
    await ClientMerge.filter(source_id=a.id).update(merged_at=datetime.now(UTC) - timedelta(days=31))
    late = await gql(UNMERGE, {"id": str(a.id)}, token=token)
    assert payload_codes(late["data"]["unmergeClient"]) == ["INVALID"]
    await ClientMerge.filter(source_id=a.id).update(merged_at=datetime.now(UTC) - timedelta(days=29))
    assert (await gql(UNMERGE, {"id": str(a.id)}, token=token))["data"]["unmergeClient"]["errors"] == []
    assert await Client.filter(status=ClientStatus.MERGED).count() == 0


async def test_a_chain_undone_in_order_gives_each_link_back_to_its_own_client(
    gql: GQL, factory: Factory, org_a: Org, clinic
) -> None:
    token, a1 = clinic["reviewer"].token, clinic["a1"]
    x = await make_client(org_a, a1, "Xia", "Link")
    s = await make_client(org_a, a1, "Xia", "Linke")
    t = await make_client(org_a, a1, "Xya", "Link")
    portal = await factory.portal_account(
        org_a, "xia@example.org", [(x, ProxyRelationship.SELF), (t, ProxyRelationship.PARENT)]
    )
    for source, target in ((x, s), (s, t)):  # the second drops X's link: the account has T already
        body = await gql(MERGE, {"i": {"sourceId": str(source.id), "targetId": str(target.id)}}, token=token)
        assert body["data"]["mergeClients"]["errors"] == []
    for merged in (s, x):
        assert (await gql(UNMERGE, {"id": str(merged.id)}, token=token))["data"]["unmergeClient"]["errors"] == []
    links = {
        str(link.client_id): link.relationship for link in await ClientPortalLink.filter(account_id=portal.account.id)
    }
    assert links == {str(x.id): ProxyRelationship.SELF, str(t.id): ProxyRelationship.PARENT}


async def test_unmerge_does_not_give_back_a_dropped_link_whose_account_was_cut_off_meanwhile(
    gql: GQL, factory: Factory, org_a: Org, clinic
) -> None:
    """Found in a security review: a link the merge dropped (its account already managed the
    survivor) came back on unmerge even after staff had removed that account's access to the
    survivor, the same person's record. A moved link removed meanwhile stays removed; so does this."""
    token, existing = clinic["reviewer"].token, clinic["existing"]
    registration = await make_client(org_a, clinic["a1"], "Zoe", "Tremblai", status=ClientStatus.PENDING_REVIEW)
    kept = await factory.portal_account(
        org_a, "kept@example.org", [(registration, ProxyRelationship.SELF), (existing, ProxyRelationship.SELF)]
    )
    cut = await factory.portal_account(
        org_a, "cut@example.org", [(registration, ProxyRelationship.PARENT), (existing, ProxyRelationship.PARENT)]
    )
    merged = await gql(MERGE, {"i": {"sourceId": str(registration.id), "targetId": str(existing.id)}}, token=token)
    assert merged["data"]["mergeClients"]["errors"] == [], merged
    assert len((await ClientMerge.get(source_id=registration.id)).dropped_links) == 2
    remove = """mutation($c: ID!, $a: ID!) { removePortalLink(input: {clientId: $c, accountId: $a}) {
      errors { code } } }"""
    removed = await gql(remove, {"c": str(existing.id), "a": str(cut.account.id)}, token=token)
    assert removed["data"]["removePortalLink"]["errors"] == [], removed

    undone = await gql(UNMERGE, {"id": str(registration.id)}, token=token)
    assert undone["data"]["unmergeClient"]["errors"] == [], undone
    assert await ClientPortalLink.filter(account_id=cut.account.id).count() == 0
    refused = await gql(CLIENT, {"id": str(registration.id)}, token=cut.token)
    assert refused["data"]["client"] is None
    # An account that still manages the survivor gets its dropped link back.
    assert {str(link.client_id) for link in await ClientPortalLink.filter(account_id=kept.account.id)} == {
        str(registration.id),
        str(existing.id),
    }


async def test_an_invitation_moved_by_a_merge_links_the_survivor(
    gql: GQL, factory: Factory, org_a: Org, clinic
) -> None:
    from tests.api.test_portal import ACCEPT, mailed_token

    registration = await make_client(org_a, clinic["a1"], "Mo", "Reg", status=ClientStatus.PENDING_REVIEW)
    invite = (
        """mutation($c: ID!) { inviteClientUser(input: {clientId: $c, email: "mo@example.org"}) { errors { code } } }"""
    )
    assert (await gql(invite, {"c": str(registration.id)}, token=clinic["reviewer"].token))["data"]["inviteClientUser"][
        "errors"
    ] == []
    merged = await gql(
        MERGE,
        {"i": {"sourceId": str(registration.id), "targetId": str(clinic["existing"].id)}},
        token=clinic["reviewer"].token,
    )
    assert merged["data"]["mergeClients"]["errors"] == []
    given = {
        "token": await mailed_token("mo@example.org"),
        "dateOfBirth": "1984-06-30",
        "newAccount": {"password": PASSWORD},
    }
    accepted = (await gql(ACCEPT, {"i": given}))["data"]["acceptClientInvitation"]
    assert accepted["errors"] == [] and accepted["link"]["client"]["id"] == str(clinic["existing"].id)
    # Undone (found in a security review: the link stayed on the survivor): the invitation was the
    # registration's, so the link made from it goes back with it.
    undone = await gql(UNMERGE, {"id": str(registration.id)}, token=clinic["reviewer"].token)
    assert undone["data"]["unmergeClient"]["errors"] == [], undone
    links = (await gql(VIEWER, token=accepted["token"]))["data"]["viewer"]["portalAccount"]["links"]
    assert [link["client"]["id"] for link in links] == [str(registration.id)]
    assert not await ClientPortalLink.filter(client_id=clinic["existing"].id).exists()
    refused = await gql(CLIENT, {"id": str(clinic["existing"].id)}, token=accepted["token"])
    assert refused["data"]["client"] is None


async def test_a_health_card_never_brings_in_a_client_whose_coverage_the_viewer_may_not_read(
    gql: GQL, factory: Factory, org_a: Org, clinic
) -> None:
    a1, a2 = clinic["a1"], clinic["a2"]
    viewer = await staff_with(factory, org_a, [P.CLIENTS_READ, P.CLIENTS_MERGE], [a1, a2])
    coverage = await factory.group(org_a.organization, [P.CLIENTS_COVERAGE_READ], locations=[a1], name="Cards A1")
    from models.groups import GroupMembership

    await GroupMembership.create(organization=org_a.organization, group=coverage, user=viewer.user)
    smith = await make_client(
        org_a, a1, "John", "Smith", health_card_number="5555555555", date_of_birth=date(1970, 1, 1)
    )
    await make_client(org_a, a2, "John", "Smyth", health_card_number="5555555555", date_of_birth=date(1971, 2, 2))
    found = (await gql(DUPLICATES, {"id": str(smith.id)}, token=viewer.token))["data"]["clientDuplicates"]
    assert found == []  # Smyth matches by card only, at A2, where the viewer may not read cards


async def test_a_common_surname_does_not_crowd_out_the_real_duplicate(gql: GQL, org_a: Org, clinic) -> None:
    a1 = clinic["a1"]
    for n in range(205):
        await make_client(org_a, a1, f"Aa{n:03d}", "Smith")
    same_person = {"date_of_birth": date(1990, 5, 5), "mobile": "+14165550177"}
    target = await make_client(org_a, a1, "Zoe", "Smith", **same_person)
    registration = await make_client(org_a, a1, "Zoe", "Smith", **same_person, status=ClientStatus.PENDING_REVIEW)
    found = (await gql(DUPLICATES, {"id": str(registration.id)}, token=clinic["reviewer"].token))["data"]
    assert found["clientDuplicates"][0]["client"]["id"] == str(target.id)


async def test_one_address_signs_up_five_times_in_the_window(gql: GQL, clinic) -> None:
    answers = [
        payload_codes(await sign_up(gql, str(clinic["a1"].id), email=f"person{n}@example.org")) for n in range(6)
    ]
    assert answers == [[]] * 5 + [["LOGIN_THROTTLED"]]


async def test_a_caller_cannot_fake_a_busy_database(gql: GQL, clinic) -> None:
    body = await gql(SIGN_UP, {"i": sign_up_input(str(clinic["a1"].id), dateOfBirth="database is locked")})
    assert error_codes(body) == ["BAD_USER_INPUT"]


PROFILE = "query($id: ID!) { client(id: $id) { lastName mobile } }"
COVERAGE = "query($id: ID!) { client(id: $id) { coverage { healthCardNumber } } }"


async def test_a_sign_up_in_a_patients_name_is_not_handed_their_record_by_a_merge(
    gql: GQL, factory: Factory, org_a: Org, clinic
) -> None:
    """Found in review: anyone who knew a patient's name and date of birth signed up in that name
    (any email), staff merged the registration into the patient's profile as article 001 tells them
    to, and the sign-up's account read the record. (Before, only a clerk without CLIENT_PORTAL_MANAGE
    was stopped.) Whoever merges, nothing of the registration's portal access moves: not its sign-up
    link, not a proxy staff linked or invited on it at the registrant's request, not the email it
    typed (where invitations, bulk ones included, would go). Staff are told."""
    victim = clinic["existing"]  # no email on file
    signed = await sign_up(gql, str(clinic["a1"].id), email="me@evil.example")
    assert signed["errors"] == [], signed
    registration = await Client.get(email="me@evil.example")
    account = await PortalAccount.get(email="me@evil.example")
    proxy = await factory.portal_account(org_a, "friend@evil.example", [(registration, ProxyRelationship.PARENT)])
    invited = await _pending_invitation(org_a, registration, "other@evil.example")
    for staff in (clinic["clerk"], clinic["reviewer"]):  # without and with CLIENT_PORTAL_MANAGE
        body = await gql(
            MERGE, {"i": {"sourceId": str(registration.id), "targetId": str(victim.id)}}, token=staff.token
        )
        merged = body["data"]["mergeClients"]
        assert merged["errors"] == [] and merged["client"]["portalLinks"] == [], body
        assert merged["warnings"] == [{"field": ["input", "sourceId"], "code": "PORTAL_EMAIL_UNVERIFIED"}]
        assert merged["client"]["email"] is None
        for token in (signed["token"], proxy.token):
            assert (await gql(PROFILE, {"id": str(victim.id)}, token=token))["data"]["client"] is None
        links = (await gql(VIEWER, token=signed["token"]))["data"]["viewer"]["portalAccount"]["links"]
        assert links == [{"relationship": "SELF", "client": {"id": str(registration.id), "status": "MERGED"}}]
        assert (await ClientInvitation.get(id=invited.id)).client_id == registration.id
        event = await AuditEvent.filter(action="client.merge").order_by("-occurred_at").first()
        assert event is not None and sorted(event.changes["linksLeft"]) == sorted(
            [str(account.id), str(proxy.account.id)]
        )
        assert event.changes["invitationsLeft"] == [str(invited.id)] and event.changes["movedLinks"] == []
        undone = await gql(UNMERGE, {"id": str(registration.id)}, token=staff.token)
        assert undone["data"]["unmergeClient"]["errors"] == [], undone
        assert [link.client_id for link in await ClientPortalLink.filter(account_id=account.id)] == [registration.id]


async def test_the_patient_gets_their_record_from_an_invitation_mailed_to_the_email_on_file(
    gql: GQL, org_a: Org, clinic
) -> None:
    """The way in for the real patient after a merge kept their sign-up back: an invitation to the
    client kept, opened from the mailbox on file while logged in, links the account and proves its
    email for that client. A later registration it signed up with is then vouched for that client
    only (the same address on file), and moving its link still needs CLIENT_PORTAL_MANAGE."""
    reviewer, a1 = clinic["reviewer"], clinic["a1"]
    patient = await make_client(org_a, a1, "Ana", "Silva", date_of_birth=date(1990, 2, 1), email="ana@home.example")
    signed = await sign_up(
        gql, str(a1.id), email="Ana@Home.example", firstName="Ana", lastName="Silva", dateOfBirth="1990-02-01"
    )
    assert signed["errors"] == [], signed
    registration = await Client.get(source=ClientSource.ONLINE_REGISTRATION, last_name="Silva")
    merged = await gql(
        MERGE, {"i": {"sourceId": str(registration.id), "targetId": str(patient.id)}}, token=reviewer.token
    )
    assert payload_codes(merged["data"]["mergeClients"]) == [] and merged["data"]["mergeClients"]["warnings"]
    invited = await gql(INVITE, {"i": {"clientId": str(patient.id), "email": "ana@home.example"}}, token=reviewer.token)
    assert payload_codes(invited["data"]["inviteClientUser"]) == [], invited
    token = await mailed_token("ana@home.example")
    body = await gql(ACCEPT, {"i": {"token": token, "dateOfBirth": "1990-02-01"}}, token=signed["token"])
    accepted = body["data"]["acceptClientInvitation"]
    assert accepted["errors"] == [] and accepted["link"]["client"]["id"] == str(patient.id), body
    account = await PortalAccount.get(email_key="ana@home.example")
    assert account.email_verified is True
    assert (await gql(PROFILE, {"id": str(patient.id)}, token=signed["token"]))["data"]["client"]["lastName"] == "Silva"

    async def registration_of_hers() -> Client:
        made = await make_client(
            org_a, a1, "Ana", "Silva", status=ClientStatus.PENDING_REVIEW, source=ClientSource.ONLINE_REGISTRATION
        )
        await ClientPortalLink.create(
            organization_id=org_a.organization.id, client=made, account=account, relationship=ProxyRelationship.SELF
        )
        return made

    # Proven for Ana's address, not for anyone else's record: into another patient's (another email
    # on file, or none), it stays.
    namesake = await make_client(org_a, a1, "Ana", "Silva", email="ana.silva@work.example")
    for target in (namesake, clinic["existing"]):
        elsewhere = await registration_of_hers()
        body = await gql(
            MERGE, {"i": {"sourceId": str(elsewhere.id), "targetId": str(target.id)}}, token=reviewer.token
        )
        assert body["data"]["mergeClients"]["errors"] == [] and body["data"]["mergeClients"]["warnings"], body
        assert await ClientPortalLink.exists(client_id=elsewhere.id, account_id=account.id)
    # Into Ana's record it is vouched for: its link (dropped here: she manages Ana already) and the
    # invitation staff made on it move, by whoever may give portal access there; a clerk who may not
    # is refused.
    second = await registration_of_hers()
    await _pending_invitation(org_a, second, "dad@home.example")
    refused = await gql(
        MERGE, {"i": {"sourceId": str(second.id), "targetId": str(patient.id)}}, token=clinic["clerk"].token
    )
    assert refused["data"]["mergeClients"]["errors"] == [{"field": ["input", "sourceId"], "code": "FORBIDDEN"}]
    again = await gql(MERGE, {"i": {"sourceId": str(second.id), "targetId": str(patient.id)}}, token=reviewer.token)
    assert again["data"]["mergeClients"]["errors"] == [] and again["data"]["mergeClients"]["warnings"] == []
    assert not await ClientPortalLink.exists(client_id=second.id)
    assert await ClientInvitation.exists(client_id=patient.id, email="dad@home.example")


async def test_a_patients_own_proven_account_does_not_vouch_for_a_sign_up_in_her_name(
    gql: GQL, factory: Factory, org_a: Org, clinic
) -> None:
    """Found in review: a registration counted as vouched for when any SELF link on it was proven, so
    staff inviting the real patient onto an impostor's registration (she opened the mail) carried the
    impostor's own link, its proxy's invitation and the mobile it typed to her record. Every SELF link
    must be proven; otherwise only hers moves, and nothing is merged into the registration."""
    reviewer, a1 = clinic["reviewer"], clinic["a1"]
    patient = await make_client(org_a, a1, "Ana", "Silva", email="ana@home.example")  # no date of birth on file
    impostor = await sign_up(
        gql,
        str(a1.id),
        email="me@evil.example",
        firstName="Ana",
        lastName="Silva",
        dateOfBirth="1990-02-01",
        mobile="416 555 0199",
    )
    assert impostor["errors"] == [], impostor
    registration = await Client.get(email="me@evil.example")
    await factory.portal_account(org_a, "ana@home.example", [(registration, ProxyRelationship.SELF)])
    invitation = await _pending_invitation(org_a, registration, "other@evil.example")
    reverse = await gql(
        MERGE, {"i": {"sourceId": str(patient.id), "targetId": str(registration.id)}}, token=reviewer.token
    )
    assert reverse["data"]["mergeClients"]["errors"] == [{"field": ["input", "targetId"], "code": "INVALID"}]

    body = await gql(
        MERGE, {"i": {"sourceId": str(registration.id), "targetId": str(patient.id)}}, token=reviewer.token
    )
    merged = body["data"]["mergeClients"]
    assert merged["errors"] == [] and merged["warnings"] == [
        {"field": ["input", "sourceId"], "code": "PORTAL_EMAIL_UNVERIFIED"}
    ], body
    assert [link["account"]["email"] for link in merged["client"]["portalLinks"]] == ["ana@home.example"]
    assert merged["client"]["mobile"] is None  # the impostor's number is not where the clinic calls her
    assert (await Client.get(id=patient.id)).date_of_birth is None  # nor its date what an invitation asks for
    assert (await gql(PROFILE, {"id": str(patient.id)}, token=impostor["token"]))["data"]["client"] is None
    assert (await ClientInvitation.get(id=invitation.id)).client_id == registration.id


async def test_a_profile_is_never_merged_into_a_registration_nobody_vouches_for(gql: GQL, clinic) -> None:
    """The other way round: merging the existing profile into a registration would make the
    registration the patient's record, its sign-up account managing it (and seeing the fields filled
    in, the portal links and invitations moved). Refused, with or without filling."""
    victim = clinic["existing"]
    signed = await sign_up(gql, str(clinic["a1"].id), email="me@evil.example", mobile=None)
    assert signed["errors"] == [], signed
    registration = await Client.get(email="me@evil.example")
    for fill in (True, False):
        body = await gql(
            MERGE,
            {"i": {"sourceId": str(victim.id), "targetId": str(registration.id), "fillEmptyFields": fill}},
            token=clinic["reviewer"].token,
        )
        assert body["data"]["mergeClients"]["errors"] == [{"field": ["input", "targetId"], "code": "INVALID"}]
    assert (await Client.get(id=victim.id)).status is ClientStatus.ACTIVE  # nothing kept
    mine = (await gql(PROFILE, {"id": str(registration.id)}, token=signed["token"]))["data"]["client"]
    assert mine == {"lastName": "Tremblai", "mobile": None}


async def test_a_merge_fills_coverage_only_for_an_actor_who_may_read_the_sources(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """Found in review: coverage managed at the target but not readable at the source was copied onto
    the target, where the actor then read it."""
    a1, a2 = org_a.locations
    base = await factory.group(org_a.organization, [P.CLIENTS_READ, P.CLIENTS_MERGE])
    coverage = await factory.group(
        org_a.organization, [P.CLIENTS_COVERAGE_READ, P.CLIENTS_COVERAGE_MANAGE], locations=[a1]
    )
    clerk = await factory.user(org_a.organization, locations=[a1, a2], groups=[base, coverage])
    source = await make_client(org_a, a2, "Sam", "Other", health_card_province="ON", health_card_number="9876543210")
    target = await make_client(org_a, a1, "Tia", "Mine")
    merged = await gql(MERGE, {"i": {"sourceId": str(source.id), "targetId": str(target.id)}}, token=clerk.token)
    assert payload_codes(merged["data"]["mergeClients"]) == [], merged
    after = await gql(COVERAGE, {"id": str(target.id)}, token=clerk.token)
    assert after["data"]["client"]["coverage"]["healthCardNumber"] is None
    assert (await Client.get(id=target.id)).health_card_number is None
    # With coverage readable at the source too, the empty card is filled, as before.
    source2 = await make_client(org_a, a1, "Sid", "Other", health_card_province="ON", health_card_number="1112223334")
    merged = await gql(MERGE, {"i": {"sourceId": str(source2.id), "targetId": str(target.id)}}, token=clerk.token)
    assert payload_codes(merged["data"]["mergeClients"]) == [], merged
    assert (await Client.get(id=target.id)).health_card_number == "1112223334"
