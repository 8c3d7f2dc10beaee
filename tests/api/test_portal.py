"""The client portal over HTTP (article 001, issue 10): invitations from the staff side, accepting
them (verification code, date of birth, new account or an existing one), what a portal account sees,
portal login throttling, and links removed on the next request."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from models.audit import AuditEvent
from models.enums import ProxyRelationship
from models.outbox import OutboxMessage
from models.portal import ClientInvitation, ClientPortalLink, PortalAccount
from permissions.catalog import Permission as P
from tests.factories import PASSWORD, Factory, Org, make_client, staff_with
from tests.support import GQL, error_codes, mailed_token, payload_codes, token_of

INVITE = """mutation($i: InviteClientUserInput!) { inviteClientUser(input: $i) {
  invitation { id email relationship requiresVerificationCode verificationCode status sendCount sentAt
               client { id } createdBy { id } }
  link errors { field code message } } }"""
ACCEPT = """mutation($i: AcceptClientInvitationInput!) { acceptClientInvitation(input: $i) {
  link { relationship client { id firstName } account { email } } token expiresAt errors { field code message } } }"""
RESEND = """mutation($id: ID!, $send: Boolean) { resendClientInvitation(input: {id: $id, send: $send}) {
  invitation { status sendCount expiresAt } link errors { code } } }"""
REVOKE = "mutation($id: ID!) { revokeClientInvitation(input: {id: $id}) { invitation { status } errors { code } } }"
BULK = """mutation($ids: [ID!]!) { bulkInviteClients(input: {clientIds: $ids}) {
  invitations { email client { id } } errors { field code } } }"""
LOGIN = """mutation($e: String!, $p: String!) { portalLogin(input: {organizationSlug: "clinic-a", email: $e,
  password: $p}) { token expiresAt account { email } errors { code message } } }"""
VIEWER = """{ viewer { kind user { id } permissions { permission }
  portalAccount { email links { relationship client { id firstName lastName dateOfBirth } } } } }"""
CLIENT = "query($id: ID!) { client(id: $id) { id firstName email preferredLanguage } }"
STAFF_ONLY = "query($id: ID!) { client(id: $id) { id alert veteranId coverage { healthCardNumber } } }"
INVITATIONS = """query($c: ID, $s: InvitationStatus) { clientInvitations(clientId: $c, status: $s) {
  totalCount edges { node { id status email } } } }"""
REMOVE = "mutation($c: ID!, $a: ID!) { removePortalLink(input: {clientId: $c, accountId: $a}) { ok errors { code } } }"
NEW_PASSWORD = "bright-meadow-kettle-77"


async def invite(gql: GQL, token: str, client_id: str, email: str, **extra: Any) -> dict[str, Any]:
    body = await gql(INVITE, {"i": {"clientId": client_id, "email": email, **extra}}, token=token)
    return body["data"]["inviteClientUser"]


async def accept(gql: GQL, session: str | None = None, **given: Any) -> dict[str, Any]:
    """acceptClientInvitation with `given` as its input (`token` is the link's), as `session`."""
    body = await gql(ACCEPT, {"i": given}, token=session)
    assert body.get("errors") is None, body
    return body["data"]["acceptClientInvitation"]


@pytest.fixture
async def clinic(factory: Factory, org_a: Org) -> dict[str, Any]:
    a1, a2 = org_a.locations
    desk = await staff_with(factory, org_a, [P.CLIENTS_READ, P.CLIENTS_MANAGE, P.CLIENT_PORTAL_MANAGE], [a1])
    # Reads clients everywhere, manages portal access nowhere.
    reader = await staff_with(factory, org_a, [P.CLIENTS_READ], [a1, a2])
    mother = await make_client(
        org_a, a1, "Maya", "Lund", email="maya@example.org", date_of_birth=date(1988, 4, 2), alert="Latex allergy"
    )
    son = await make_client(org_a, a1, "Leo", "Lund", date_of_birth=date(2016, 9, 14), veteran_id="V-1")
    stranger = await make_client(org_a, a1, "Ines", "Roy", email="ines@example.org", preferred_language="fr")
    elsewhere = await make_client(org_a, a2, "Noor", "Haddad", email="noor@example.org")
    return {
        "desk": desk,
        "reader": reader,
        "mother": mother,
        "son": son,
        "stranger": stranger,
        "elsewhere": elsewhere,
    }


async def test_a_parent_invited_with_a_code_accepts_with_a_new_account_and_sees_her_son_only(
    gql: GQL, clinic: dict[str, Any]
) -> None:
    desk, son = clinic["desk"], clinic["son"]
    issued = await invite(
        gql, desk.token, str(son.id), "Maya@Example.org", relationship="PARENT", requireVerificationCode=True
    )
    assert issued["errors"] == [], issued
    invitation = issued["invitation"]
    assert invitation["status"] == "PENDING" and invitation["requiresVerificationCode"] is True
    assert re.fullmatch(r"\d{6}", invitation["verificationCode"])
    assert invitation["sendCount"] == 1 and invitation["createdBy"] == {"id": str(desk.user.id)}
    # The mail carries the link, never the code (the invitee phones the clinic for it).
    # Mailed: staff never see the link (they could accept in her name), and the mail never the code.
    assert issued["link"] is None
    mail = await OutboxMessage.filter(to_address="Maya@example.org").get()  # as typed, the domain normalized
    assert invitation["verificationCode"] not in mail.text_body
    assert "https://tessera.test/invitation?token=tsl_" in mail.text_body

    accepted = await accept(
        gql,
        token=token_of(mail.text_body),
        verificationCode=invitation["verificationCode"],
        dateOfBirth="2016-09-14",
        newAccount={"password": NEW_PASSWORD, "firstName": "Maya", "lastName": "Lund"},
    )
    assert accepted["errors"] == [], accepted
    assert accepted["link"]["relationship"] == "PARENT" and accepted["link"]["account"]["email"] == "Maya@example.org"
    portal = accepted["token"]
    assert portal.startswith("tsp_")

    viewer = (await gql(VIEWER, token=portal))["data"]["viewer"]
    assert viewer["kind"] == "PORTAL_ACCOUNT" and viewer["user"] is None and viewer["permissions"] == []
    assert [link["client"]["firstName"] for link in viewer["portalAccount"]["links"]] == ["Leo"]
    assert (await gql(CLIENT, {"id": str(son.id)}, token=portal))["data"]["client"]["firstName"] == "Leo"
    # Nobody else: not herself (no SELF link yet), not another client, not a list.
    for other in ("mother", "stranger", "elsewhere"):
        assert (await gql(CLIENT, {"id": str(clinic[other].id)}, token=portal))["data"]["client"] is None
    body = await gql("{ clients { totalCount } }", token=portal)
    assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None
    # Staff-only parts of her son's profile: null and a FORBIDDEN at each path; the rest answers.
    body = await gql(STAFF_ONLY, {"id": str(son.id)}, token=portal)
    assert body["data"]["client"] == {"id": str(son.id), "alert": None, "veteranId": None, "coverage": None}
    assert sorted(tuple(e["path"][1:]) for e in body["errors"]) == [("alert",), ("coverage",), ("veteranId",)]
    assert set(error_codes(body)) == {"FORBIDDEN"}
    # The staff side sees the invitation accepted and the link on the client.
    listed = (await gql(INVITATIONS, {"c": str(son.id)}, token=desk.token))["data"]["clientInvitations"]
    assert [e["node"]["status"] for e in listed["edges"]] == ["ACCEPTED"]
    account = await PortalAccount.get(email_key="maya@example.org")
    assert account.email_verified is True  # the link reached her mailbox


async def test_the_portal_reads_are_in_the_phi_access_log(gql: GQL, factory: Factory, org_a: Org) -> None:
    client = await make_client(org_a, org_a.locations[0], "Ada", "Moss")
    parent = await factory.portal_account(org_a, "parent@example.org", [(client, ProxyRelationship.PARENT)])
    await gql(CLIENT, {"id": str(client.id)}, token=parent.token)
    event = await AuditEvent.filter(action="client.read").order_by("-occurred_at").first()
    assert event is not None and event.actor_kind == "PORTAL_ACCOUNT" and str(event.actor_id) == parent.actor_id


async def test_the_link_asks_for_the_date_of_birth_and_five_wrong_answers_void_it(
    gql: GQL, clinic: dict[str, Any]
) -> None:
    await invite(gql, clinic["desk"].token, str(clinic["son"].id), "dad@example.org", relationship="PARENT")
    token = await mailed_token("dad@example.org")
    new_account = {"password": NEW_PASSWORD}
    missing = await accept(gql, token=token, newAccount=new_account)
    assert [(e["code"], e["field"]) for e in missing["errors"]] == [
        ("VERIFICATION_CODE_INVALID", ["input", "dateOfBirth"])
    ]
    for _ in range(3):
        wrong = await accept(gql, token=token, dateOfBirth="2016-09-15", newAccount=new_account)
        assert payload_codes(wrong) == ["VERIFICATION_CODE_INVALID"]
    fifth = await accept(gql, token=token, dateOfBirth="2015-01-01", newAccount=new_account)
    assert "now void" in fifth["errors"][0]["message"]
    # Even the right answer opens nothing now; no account was made.
    right = await accept(gql, token=token, dateOfBirth="2016-09-14", newAccount=new_account)
    assert payload_codes(right) == ["INVITATION_INVALID"]
    assert not await PortalAccount.filter(email_key="dad@example.org").exists()
    status = (await gql(INVITATIONS, {"c": str(clinic["son"].id)}, token=clinic["desk"].token))["data"]
    assert [e["node"]["status"] for e in status["clientInvitations"]["edges"]] == ["REVOKED"]


async def test_five_wrong_codes_void_the_invitation(gql: GQL, clinic: dict[str, Any]) -> None:
    """(The same with the guesses sent at once: test_portal_concurrency.py, on PostgreSQL.)"""
    issued = await invite(
        gql, clinic["desk"].token, str(clinic["stranger"].id), "ines@example.org", requireVerificationCode=True
    )
    token = await mailed_token("ines@example.org")
    code = issued["invitation"]["verificationCode"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    codes = [
        payload_codes(await accept(gql, token=token, verificationCode=wrong, newAccount={"password": NEW_PASSWORD}))
        for _ in range(6)
    ]
    assert codes == [["VERIFICATION_CODE_INVALID"]] * 5 + [["INVITATION_INVALID"]]
    right = await accept(gql, token=token, verificationCode=code, newAccount={"password": NEW_PASSWORD})
    assert payload_codes(right) == ["INVITATION_INVALID"]
    found = await ClientInvitation.get(id=issued["invitation"]["id"])
    assert found.revoked_at is not None and found.accepted_at is None and found.code_failures == 5


async def test_resend_voids_the_old_link_and_revoke_and_expiry_end_it(gql: GQL, clinic: dict[str, Any]) -> None:
    desk = clinic["desk"]
    first = await invite(gql, desk.token, str(clinic["stranger"].id), "ines@example.org", send=False)
    assert first["invitation"]["sendCount"] == 0 and first["invitation"]["sentAt"] is None
    assert not await OutboxMessage.filter(to_address="ines@example.org").exists()
    resent = (await gql(RESEND, {"id": first["invitation"]["id"], "send": True}, token=desk.token))["data"]
    resent = resent["resendClientInvitation"]
    assert resent["errors"] == [] and resent["invitation"]["sendCount"] == 1
    assert resent["link"] is None  # mailed
    resent_token = await mailed_token("ines@example.org")
    assert resent_token != token_of(first["link"])
    # The client's language: French.
    mail = await OutboxMessage.filter(to_address="ines@example.org").get()
    assert "vous invite" in mail.subject
    old = await accept(gql, token=token_of(first["link"]), newAccount={"password": NEW_PASSWORD})
    assert payload_codes(old) == ["INVITATION_INVALID"]

    revoked = (await gql(REVOKE, {"id": first["invitation"]["id"]}, token=desk.token))["data"]
    assert revoked["revokeClientInvitation"]["invitation"]["status"] == "REVOKED"
    after_revoke = await accept(gql, token=resent_token, newAccount={"password": NEW_PASSWORD})
    assert payload_codes(after_revoke) == ["INVITATION_INVALID"]
    again = (await gql(REVOKE, {"id": first["invitation"]["id"]}, token=desk.token))["data"]
    assert payload_codes(again["revokeClientInvitation"]) == ["INVALID"]

    late = await invite(gql, desk.token, str(clinic["mother"].id), "maya@example.org")
    await ClientInvitation.filter(id=late["invitation"]["id"]).update(expires_at=datetime.now(UTC) - timedelta(1))
    expired = await gql(INVITATIONS, {"c": str(clinic["mother"].id), "s": "EXPIRED"}, token=desk.token)
    assert expired["data"]["clientInvitations"]["totalCount"] == 1
    too_late = await accept(
        gql,
        token=await mailed_token("maya@example.org"),
        dateOfBirth="1988-04-02",
        newAccount={"password": NEW_PASSWORD},
    )
    assert payload_codes(too_late) == ["INVITATION_INVALID"]
    # An expired invitation can be sent again: a new link that works.
    renewed = (await gql(RESEND, {"id": late["invitation"]["id"]}, token=desk.token))["data"]
    renewed = renewed["resendClientInvitation"]
    assert renewed["invitation"]["status"] == "PENDING"
    ok = await accept(
        gql,
        token=await mailed_token("maya@example.org"),
        dateOfBirth="1988-04-02",
        newAccount={"password": NEW_PASSWORD},
    )
    assert ok["errors"] == [] and ok["link"]["relationship"] == "SELF"


async def test_an_existing_account_logs_in_and_accepts_and_a_new_account_takes_nothing_over(
    gql: GQL, factory: Factory, org_a: Org, clinic: dict[str, Any]
) -> None:
    mother = await factory.portal_account(org_a, "maya@example.org", [(clinic["mother"], ProxyRelationship.SELF)])
    before = await PortalAccount.get(id=mother.account.id)
    await invite(gql, clinic["desk"].token, str(clinic["son"].id), "maya@example.org", relationship="PARENT")
    token = await mailed_token("maya@example.org")
    # A new account for an email that has one: refused, the account unchanged, the link still good.
    taken = await accept(gql, token=token, dateOfBirth="2016-09-14", newAccount={"password": NEW_PASSWORD})
    assert payload_codes(taken) == ["DUPLICATE"]
    after = await PortalAccount.get(id=mother.account.id)
    assert (after.password_hash, after.first_name) == (before.password_hash, before.first_name)
    # Someone else's session cannot take the link either.
    other = await factory.portal_account(org_a, "someone@example.org")
    wrong = await accept(gql, other.token, token=token, dateOfBirth="2016-09-14")
    assert payload_codes(wrong) == ["INVITATION_INVALID"]
    # Without a session or a new account: told to log in.
    anonymous = await accept(gql, token=token, dateOfBirth="2016-09-14")
    assert payload_codes(anonymous) == ["REQUIRED"]

    login = (await gql(LOGIN, {"e": " MAYA@example.org", "p": PASSWORD}))["data"]["portalLogin"]
    assert login["errors"] == [] and login["account"] == {"email": "maya@example.org"}
    accepted = await accept(gql, login["token"], token=token, dateOfBirth="2016-09-14")
    assert accepted["errors"] == [] and accepted["token"] is None
    viewer = (await gql(VIEWER, token=login["token"]))["data"]["viewer"]
    assert sorted(link["relationship"] for link in viewer["portalAccount"]["links"]) == ["PARENT", "SELF"]
    # Single use.
    twice = await accept(gql, login["token"], token=token, dateOfBirth="2016-09-14")
    assert payload_codes(twice) == ["INVITATION_INVALID"]


async def test_bulk_invite_reports_each_refused_client_and_invites_the_rest(
    gql: GQL, factory: Factory, org_a: Org, clinic: dict[str, Any]
) -> None:
    await factory.portal_account(org_a, "maya@example.org", [(clinic["mother"], ProxyRelationship.SELF)])
    ids = [
        str(clinic["stranger"].id),  # invited
        str(clinic["son"].id),  # no email
        str(clinic["elsewhere"].id),  # at A2: out of the desk's sight
        str(clinic["mother"].id),  # already linked with that email
        "not-an-id",
    ]
    body = (await gql(BULK, {"ids": ids}, token=clinic["desk"].token))["data"]["bulkInviteClients"]
    assert [i["email"] for i in body["invitations"]] == ["ines@example.org"]
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        (["input", "clientIds", "1"], "REQUIRED"),
        (["input", "clientIds", "2"], "NOT_FOUND"),
        (["input", "clientIds", "3"], "DUPLICATE"),
        (["input", "clientIds", "4"], "NOT_FOUND"),
    ]
    assert await ClientInvitation.all().count() == 1
    too_many = await gql(BULK, {"ids": [str(clinic["stranger"].id)] * 101}, token=clinic["desk"].token)
    assert payload_codes(too_many["data"]["bulkInviteClients"]) == ["INVALID"]


async def test_portal_login_is_throttled_and_says_nothing_of_who_exists(gql: GQL, factory: Factory, org_a: Org) -> None:
    await factory.portal_account(org_a, "maya@example.org")
    unknown = (await gql(LOGIN, {"e": "nobody@example.org", "p": PASSWORD}))["data"]["portalLogin"]
    wrong = (await gql(LOGIN, {"e": "maya@example.org", "p": "not-the-password"}))["data"]["portalLogin"]
    assert payload_codes(unknown) == payload_codes(wrong) == ["INVALID_CREDENTIALS"]
    assert unknown["errors"][0]["message"] == wrong["errors"][0]["message"]
    for _ in range(4):
        await gql(LOGIN, {"e": "maya@example.org", "p": "not-the-password"})
    throttled = (await gql(LOGIN, {"e": "maya@example.org", "p": PASSWORD}))["data"]["portalLogin"]
    assert payload_codes(throttled) == ["LOGIN_THROTTLED"] and throttled["token"] is None


async def test_a_removed_link_denies_on_the_next_request_and_logout_ends_the_session(
    gql: GQL, factory: Factory, org_a: Org, clinic: dict[str, Any]
) -> None:
    parent = await factory.portal_account(org_a, "maya@example.org", [(clinic["son"], ProxyRelationship.PARENT)])
    son = str(clinic["son"].id)
    assert (await gql(CLIENT, {"id": son}, token=parent.token))["data"]["client"]["id"] == son
    removed = await gql(REMOVE, {"c": son, "a": parent.actor_id}, token=clinic["desk"].token)
    assert removed["data"]["removePortalLink"] == {"ok": True, "errors": []}
    assert (await gql(CLIENT, {"id": son}, token=parent.token))["data"]["client"] is None
    assert not await ClientPortalLink.filter(account_id=parent.account.id).exists()
    out = await gql("mutation { logout { ok } }", token=parent.token)
    assert out["data"]["logout"]["ok"] is True
    assert error_codes(await gql(VIEWER, token=parent.token)) == ["UNAUTHENTICATED"]


async def test_staff_without_portal_management_at_the_clients_location_cannot_touch_invitations(
    gql: GQL, clinic: dict[str, Any]
) -> None:
    issued = await invite(gql, clinic["desk"].token, str(clinic["stranger"].id), "ines@example.org")
    reader = clinic["reader"].token
    refused = await gql(INVITE, {"i": {"clientId": str(clinic["stranger"].id), "email": "x@example.org"}}, token=reader)
    assert error_codes(refused) == ["FORBIDDEN"]
    for document in (RESEND, REVOKE):
        assert error_codes(await gql(document, {"id": issued["invitation"]["id"]}, token=reader)) == ["FORBIDDEN"]
    assert error_codes(await gql(INVITATIONS, {}, token=reader)) == ["FORBIDDEN"]
    # Nested: the client answers, its invitations are refused beside it.
    body = await gql(
        "query($id: ID!) { client(id: $id) { id invitations { id } } }",
        {"id": issued["invitation"]["client"]["id"]},
        token=reader,
    )
    assert body["data"]["client"]["invitations"] == [] and error_codes(body) == ["FORBIDDEN"]


async def test_create_client_sends_the_72_hour_claim_email(
    gql: GQL, factory: Factory, clinic: dict[str, Any], org_a: Org
) -> None:
    create = """mutation($i: CreateClientInput!) { createClient(input: $i) {
      client { id invitations { email relationship status expiresAt } } errors { field code } } }"""
    given = {"firstName": "Ana", "lastName": "Diaz", "locationId": str(org_a.locations[0].id), "smsConsent": False}
    body = await gql(create, {"i": {**given, "sendPortalInvitation": True}}, token=clinic["desk"].token)
    assert payload_codes(body["data"]["createClient"]) == ["REQUIRED"]
    body = await gql(
        create, {"i": {**given, "email": "ana@example.org", "sendPortalInvitation": True}}, token=clinic["desk"].token
    )
    payload = body["data"]["createClient"]
    assert payload["errors"] == [], body
    [invitation] = payload["client"]["invitations"]
    assert invitation["relationship"] == "SELF" and invitation["status"] == "PENDING"
    expires = datetime.fromisoformat(invitation["expiresAt"])
    assert timedelta(hours=71) < expires - datetime.now(UTC) <= timedelta(hours=72)
    mail = await OutboxMessage.filter(to_address="ana@example.org").get()
    assert mail.template == "portal_claim" and "/invitation?token=tsl_" in mail.text_body
    # Creating clients without CLIENT_PORTAL_MANAGE there: refused whole, no client made.
    clerk = await staff_with(factory, org_a, [P.CLIENTS_READ, P.CLIENTS_MANAGE], org_a.locations)
    given = {**given, "email": "x@example.org", "sendPortalInvitation": True}
    body = await gql(create, {"i": given}, token=clerk.token)
    assert [(e["field"], e["code"]) for e in body["data"]["createClient"]["errors"]] == [
        (["input", "sendPortalInvitation"], "FORBIDDEN")
    ]
    assert not await OutboxMessage.filter(to_address="x@example.org").exists()


async def test_odd_codes_are_wrong_answers_and_a_handed_out_link_verifies_no_email(
    gql: GQL, clinic: dict[str, Any]
) -> None:
    issued = await invite(
        gql,
        clinic["desk"].token,
        str(clinic["stranger"].id),
        "ines@example.org",
        requireVerificationCode=True,
        send=False,
    )
    token = token_of(issued["link"])
    for odd in ("é", "١٢٣٤٥٦", "12 456", " " * 3):  # (a NUL never gets past the transport)
        answer = await accept(gql, token=token, verificationCode=odd, newAccount={"password": NEW_PASSWORD})
        assert payload_codes(answer) == ["VERIFICATION_CODE_INVALID"], (odd, answer)
    accepted = await accept(
        gql,
        token=token,
        verificationCode=issued["invitation"]["verificationCode"],
        newAccount={"password": NEW_PASSWORD, "firstName": "In\u0007es"},
    )
    assert accepted["errors"] == []
    account = await PortalAccount.get(email_key="ines@example.org")
    # Staff held this link: opening it proves nothing about the mailbox.
    assert account.email_verified is False and account.first_name == "Ines"


async def test_archiving_a_client_revokes_its_invitations_and_access_can_still_be_removed(
    gql: GQL, factory: Factory, org_a: Org, clinic: dict[str, Any]
) -> None:
    desk, son = clinic["desk"], clinic["son"]
    issued = await invite(gql, desk.token, str(son.id), "dad@example.org", send=False)
    parent = await factory.portal_account(org_a, "mum@example.org", [(son, ProxyRelationship.PARENT)])
    archive = "mutation($id: ID!) { archiveClient(input: {id: $id}) { errors { code } } }"
    admin = org_a.admin.token
    assert (await gql(archive, {"id": str(son.id)}, token=admin))["data"]["archiveClient"]["errors"] == []
    late = await accept(
        gql, token=token_of(issued["link"]), dateOfBirth="2016-09-14", newAccount={"password": NEW_PASSWORD}
    )
    assert payload_codes(late) == ["INVITATION_INVALID"]
    assert (await ClientInvitation.get(id=issued["invitation"]["id"])).revoked_at is not None
    removed = await gql(REMOVE, {"c": str(son.id), "a": parent.actor_id}, token=desk.token)
    assert removed["data"]["removePortalLink"] == {"ok": True, "errors": []}


async def test_a_portal_account_gets_no_staff_detail_of_the_clinic_or_the_provider(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    from tests.factories import make_provider

    provider = await make_provider((await factory.user(org_a.organization, username="dr", session=False)).user)
    child = await make_client(org_a, org_a.locations[0], "Ada", "Moss", provider=provider)
    parent = await factory.portal_account(org_a, "parent@example.org", [(child, ProxyRelationship.PARENT)])
    public = await gql(
        "query($id: ID!) { client(id: $id) { primaryProvider { displayName } } }",
        {"id": str(child.id)},
        token=parent.token,
    )
    assert public["data"]["client"]["primaryProvider"] == {"displayName": provider.display_name}
    private = await gql(
        "query($id: ID!) { client(id: $id) { primaryProvider { billingRole settings { messagingEnabled } } } }",
        {"id": str(child.id)},
        token=parent.token,
    )
    assert private["data"]["client"]["primaryProvider"] is None and set(error_codes(private)) == {"FORBIDDEN"}
    seats = await gql("{ viewer { organization { name seatLimit } } }", token=parent.token)
    assert error_codes(seats) == ["FORBIDDEN"]
    named = await gql("{ viewer { organization { name } } }", token=parent.token)
    assert named["data"]["viewer"]["organization"]["name"] == org_a.organization.name
