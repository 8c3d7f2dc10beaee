"""The client portal's side doors, second round (docs/architecture.md "Client portal"): sequences of
allowed calls around merges, unmerges and invitations that must not add up to portal access the actor
could not give by inviting."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from models.clients import Client
from models.enums import ClientStatus, ProxyRelationship
from models.portal import ClientInvitation
from permissions.catalog import Permission as P
from tests.factories import PASSWORD, Factory, Org, make_client, staff_with
from tests.support import GQL, error_codes, payload_codes

SIGN_UP = """mutation($i: PortalSignUpInput!) { portalSignUp(input: $i) { token errors { field code } } }"""
MERGE = """mutation($i: MergeClientsInput!) { mergeClients(input: $i) { client { id } errors { field code } } }"""
UNMERGE = """mutation($id: ID!) { unmergeClient(input: {id: $id}) { client { id status } errors { field code } } }"""
INVITE = """mutation($i: InviteClientUserInput!) { inviteClientUser(input: $i) {
  invitation { id } link errors { field code } } }"""
RESEND = """mutation($id: ID!, $send: Boolean) { resendClientInvitation(input: {id: $id, send: $send}) {
  link errors { code } } }"""
ACCEPT = """mutation($i: AcceptClientInvitationInput!) { acceptClientInvitation(input: $i) {
  token errors { field code } } }"""
PORTAL_VIEW = """query($id: ID!) { client(id: $id) { id firstName address { line1 city }
  phones { number } emergencyContacts { name phone } } }"""


# What the patient's record holds that a public sign-up does not: what a fill would hand over.
MAYAS_CONTACTS: dict[str, Any] = {
    "address_line1": "12 Birch Lane",
    "address_city": "Toronto",
    "phones": [{"label": "home", "number": "+14165550199"}],
    "emergency_contacts": [{"name": "Erik Lund", "relationship": "spouse", "phone": "+14165550123"}],
}


def _token_of(link: str) -> str:
    found = re.search(r"token=(tsl_[A-Za-z0-9_-]+)", link)
    assert found, link
    return found.group(1)


async def _sign_up(gql: GQL, location_id: str, email: str, **extra: Any) -> str:
    body = await gql(
        SIGN_UP,
        {
            "i": {
                "organizationSlug": "clinic-a",
                "email": email,
                "password": PASSWORD,
                "firstName": "Maya",
                "lastName": "Lund",
                "dateOfBirth": "1988-04-02",
                "locationId": location_id,
                **extra,
            }
        },
    )
    assert payload_codes(body["data"]["portalSignUp"]) == [], body
    return str(body["data"]["portalSignUp"]["token"])


async def test_merging_a_patient_into_a_portal_linked_registration_is_refused(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """A clerk with CLIENTS_MERGE alone (refused `inviteClientUser` anywhere) signs up on the public
    page with a mailbox of their own, then merges a patient INTO that registration (the reverse of
    the fixed direction): the merge fills the registration's empty fields with the patient's address,
    phones and emergency contacts, which the sign-up's portal account then reads, and keeps reading
    after the clerk leaves, since the registration is now the patient's surviving record. Nothing is
    merged into a registration nothing vouches for (INVALID), whoever merges."""
    a1, _ = org_a.locations
    clerk = await staff_with(factory, org_a, [P.CLIENTS_READ, P.CLIENTS_MERGE], [a1])
    patient = await make_client(org_a, a1, "Maya", "Lund", date_of_birth=date(1988, 4, 2), **MAYAS_CONTACTS)
    portal = await _sign_up(gql, str(a1.id), "me@evil.example")
    registration = await Client.get(email="me@evil.example")
    denied = await gql(INVITE, {"i": {"clientId": str(registration.id), "email": "x@evil.example"}}, token=clerk.token)
    assert error_codes(denied) == ["FORBIDDEN"]  # the clerk gives no portal access

    body = await gql(MERGE, {"i": {"sourceId": str(patient.id), "targetId": str(registration.id)}}, token=clerk.token)
    payload = body["data"]["mergeClients"]
    seen = (await gql(PORTAL_VIEW, {"id": str(registration.id)}, token=portal))["data"]["client"]
    assert seen["address"] is None or seen["address"]["line1"] != "12 Birch Lane", seen
    assert seen["emergencyContacts"] == [] and seen["phones"] == [], seen
    assert payload_codes(payload) == ["INVALID"], body
    assert (await Client.get(id=patient.id)).status is ClientStatus.ACTIVE  # nothing kept


async def _merged_with_a_shown_link(gql: GQL, factory: Factory, org_a: Org) -> tuple[Client, Client, str, str, str]:
    """The actor manages portal access at a2 only (so it may not hand out the source's links); the
    desk at a1 mails an invitation for the source; the actor merges it into a2's client and shows
    itself a link of the moved invitation there. Returns the source, the target, the invitation's
    id, the link the actor holds and the actor's token."""
    a1, a2 = org_a.locations
    merging = await factory.group(org_a.organization, [P.CLIENTS_READ, P.CLIENTS_MERGE])
    portal_at_a2 = await factory.group(org_a.organization, [P.CLIENT_PORTAL_MANAGE], locations=[a2])
    actor = await factory.user(org_a.organization, locations=[a1, a2], groups=[merging, portal_at_a2])
    source = await make_client(org_a, a1, "Ines", "Roy", date_of_birth=date(1990, 1, 5))
    target = await make_client(org_a, a2, "Ines", "Roy", date_of_birth=date(1990, 1, 5))
    invited = await gql(
        INVITE, {"i": {"clientId": str(source.id), "email": "ines@example.org"}}, token=org_a.admin.token
    )
    invitation_id = invited["data"]["inviteClientUser"]["invitation"]["id"]
    refused = await gql(RESEND, {"id": invitation_id, "send": False}, token=actor.token)
    assert payload_codes(refused["data"]["resendClientInvitation"]) == ["NOT_FOUND"], refused
    merged = await gql(MERGE, {"i": {"sourceId": str(source.id), "targetId": str(target.id)}}, token=actor.token)
    assert payload_codes(merged["data"]["mergeClients"]) == [], merged
    got = await gql(RESEND, {"id": invitation_id, "send": False}, token=actor.token)
    link = got["data"]["resendClientInvitation"]["link"]
    assert link, got
    return source, target, invitation_id, link, actor.token


async def test_unmerge_does_not_carry_a_link_issued_at_the_survivor_back_to_the_source(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """A merge moves the source's pending invitation to the survivor, where the actor manages portal
    access; there it hands itself a fresh link ("get link"); undoing the merge would bring the
    invitation back to the source, where the actor may not give portal access, with that link
    working: so the actor may not undo it (it gives the source's portal access back)."""
    source, target, invitation_id, _, actor = await _merged_with_a_shown_link(gql, factory, org_a)
    undone = await gql(UNMERGE, {"id": str(source.id)}, token=actor)
    assert payload_codes(undone["data"]["unmergeClient"]) == ["FORBIDDEN"], undone
    assert (await ClientInvitation.get(id=invitation_id)).client_id == target.id
    assert (await Client.get(id=source.id)).status is ClientStatus.MERGED


async def _accept(gql: GQL, link: str) -> dict[str, Any]:
    body = await gql(
        ACCEPT,
        {
            "i": {
                "token": _token_of(link),
                "dateOfBirth": "1990-01-05",
                "newAccount": {"password": "bright-meadow-kettle-77"},
            }
        },
    )
    return dict(body["data"]["acceptClientInvitation"])


async def test_a_link_shown_at_the_survivor_dies_when_someone_else_undoes_the_merge(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """The variant where an admin, who may give portal access at the source, undoes the merge: the
    invitation goes back to the source still pending, but the link shown to the survivor's staff
    must not open it (the source's staff send a new one)."""
    source, _, invitation_id, link, _ = await _merged_with_a_shown_link(gql, factory, org_a)
    undone = await gql(UNMERGE, {"id": str(source.id)}, token=org_a.admin.token)
    assert payload_codes(undone["data"]["unmergeClient"]) == [], undone

    row = await ClientInvitation.get(id=invitation_id)
    assert row.client_id == source.id and row.accepted_at is None and not row.link_shown
    taken = await _accept(gql, link)
    assert taken["token"] is None and payload_codes(taken), taken


async def test_an_account_made_from_a_link_shown_at_the_survivor_does_not_go_back_to_the_source(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """The variant where the shown link is accepted while the merge stands: the account it made is
    linked to the survivor, and undoing the merge must not hand it the source (nor leave it on the
    survivor, whose record the source's invitee was never invited to)."""
    source, target, _, link, _ = await _merged_with_a_shown_link(gql, factory, org_a)
    taken = await _accept(gql, link)
    assert taken["token"], taken
    undone = await gql(UNMERGE, {"id": str(source.id)}, token=org_a.admin.token)
    assert payload_codes(undone["data"]["unmergeClient"]) == [], undone

    for client in (source, target):
        seen = (await gql(PORTAL_VIEW, {"id": str(client.id)}, token=taken["token"]))["data"]["client"]
        assert seen is None, (client.first_name, seen)


async def test_a_link_shown_at_the_source_before_the_merge_still_opens_after_the_undo(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """The source's own desk read a link to the invitee over the phone before the merge: undoing the
    merge brings the invitation back with that link alive (only links sent or shown at the survivor
    meanwhile die), and the invitee's account is linked to the source."""
    a1, a2 = org_a.locations
    source = await make_client(org_a, a1, "Ines", "Roy", date_of_birth=date(1990, 1, 5))
    target = await make_client(org_a, a2, "Ines", "Roy", date_of_birth=date(1990, 1, 5))
    invited = await gql(
        INVITE, {"i": {"clientId": str(source.id), "email": "ines@example.org", "send": False}}, token=org_a.admin.token
    )
    link = invited["data"]["inviteClientUser"]["link"]
    assert link, invited
    merged = await gql(MERGE, {"i": {"sourceId": str(source.id), "targetId": str(target.id)}}, token=org_a.admin.token)
    assert payload_codes(merged["data"]["mergeClients"]) == [], merged
    undone = await gql(UNMERGE, {"id": str(source.id)}, token=org_a.admin.token)
    assert payload_codes(undone["data"]["unmergeClient"]) == [], undone

    taken = await _accept(gql, link)
    assert taken["token"], taken
    seen = (await gql(PORTAL_VIEW, {"id": str(source.id)}, token=taken["token"]))["data"]["client"]
    assert seen is not None and seen["id"] == str(source.id)


async def test_merges_showing_nothing_to_the_survivors_portal_accounts_need_no_portal_grant(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """Into a survivor that portal accounts manage, a merge is refused only when it fills what they
    read: without filling, or filling only staff-only fields (the alert here), CLIENTS_MERGE is enough."""
    a1, _ = org_a.locations
    clerk = await staff_with(factory, org_a, [P.CLIENTS_READ, P.CLIENTS_MERGE], [a1])
    survivor = await make_client(org_a, a1, "Maya", "Lund", date_of_birth=date(1988, 4, 2), email="maya@example.org")
    await factory.portal_account(org_a, "maya@example.org", [(survivor, ProxyRelationship.SELF)])
    for fill, extra in ((False, {"address_line1": "12 Birch Lane"}), (True, {"alert": "Latex allergy"})):
        patient = await make_client(org_a, a1, "Maya", "Lund", date_of_birth=date(1988, 4, 2), **extra)
        body = await gql(
            MERGE,
            {"i": {"sourceId": str(patient.id), "targetId": str(survivor.id), "fillEmptyFields": fill}},
            token=clerk.token,
        )
        assert payload_codes(body["data"]["mergeClients"]) == [], (fill, body)
