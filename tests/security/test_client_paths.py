"""Every path to a client (docs/architecture.md "Principals and grants": one scoping rule), guarded fields and the
filters on them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.clients import Client
from models.organization import Location
from permissions.catalog import Permission as P
from tests.factories import Factory, Org, make_client, make_provider, staff_with
from tests.support import GQL, error_codes, payload_codes


def new_client(location: Location, **fields: Any) -> dict[str, Any]:
    """createClient's variables: a client "A B" at this location, with these fields besides."""
    return {"input": {"firstName": "A", "lastName": "B", "locationId": str(location.id), **fields}}


async def test_provider_clients_and_count_show_only_visible_clients(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    doctor = await factory.user(org_a.organization, username="doc", all_locations=True)
    provider = await make_provider(doctor.user)
    seen = await make_client(org_a, a1, "Seen", "Client", primary_provider=provider)
    await make_client(org_a, a2, "Hidden", "Client", primary_provider=provider)
    viewer = await staff_with(factory, org_a, [P.PROVIDERS_READ, P.CLIENTS_READ], [a1])
    body = await gql(
        "query ($id: ID!) { provider(id: $id) { clientCount clients { totalCount edges { node { id } } } } }",
        {"id": str(provider.id)},
        token=viewer.token,
    )
    assert body["data"]["provider"] == {
        "clientCount": 1,
        "clients": {"totalCount": 1, "edges": [{"node": {"id": str(seen.id)}}]},
    }


async def test_merge_lineage_hides_clients_out_of_scope(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    survivor = await make_client(org_a, a1, "Sur", "Vivor")
    await make_client(org_a, a2, "Mer", "Ged", status="MERGED", merged_into_id=survivor.id, merged_at=datetime.now(UTC))
    viewer = await staff_with(factory, org_a, [P.CLIENTS_READ], [a1])
    body = await gql(
        "query ($id: ID!) { client(id: $id) { mergedFrom { id } } }", {"id": str(survivor.id)}, token=viewer.token
    )
    assert body["data"]["client"]["mergedFrom"] == []
    hidden_survivor = await make_client(org_a, a2, "Hid", "Den")
    merged = await make_client(
        org_a, a1, "Mer", "Two", status="MERGED", merged_into_id=hidden_survivor.id, merged_at=datetime.now(UTC)
    )
    body = await gql(
        "query ($id: ID!) { client(id: $id) { mergedInto { id } } }", {"id": str(merged.id)}, token=viewer.token
    )
    assert body["data"]["client"]["mergedInto"] is None


async def test_health_card_is_guarded_in_fields_filters_and_search(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    card = "9876543217"
    at_a2 = await make_client(org_a, a2, "Card", "Holder", health_card_number=card, health_card_province="ON")
    reader = await factory.group(org_a.organization, [P.CLIENTS_READ])
    coverage = await factory.group(org_a.organization, [P.CLIENTS_COVERAGE_READ], locations=[a1])
    viewer = await factory.user(org_a.organization, username="v", locations=[a1, a2], groups=[reader, coverage])
    query = "query ($f: ClientFilter) { clients(filter: $f) { totalCount edges { node { id } } } }"
    body = await gql(query, {"f": {"healthCardNumber": card}}, token=viewer.token)
    assert body["data"]["clients"]["totalCount"] == 0
    body = await gql(query, {"f": {"search": card}}, token=viewer.token)
    assert body["data"]["clients"]["totalCount"] == 0
    body = await gql(
        "query ($id: ID!) { client(id: $id) { coverage { healthCardNumber } } }",
        {"id": str(at_a2.id)},
        token=viewer.token,
    )
    assert error_codes(body) == ["FORBIDDEN"] and card not in str(body)
    plain = await staff_with(factory, org_a, [P.CLIENTS_READ], [a1, a2])
    assert error_codes(await gql(query, {"f": {"healthCardNumber": card}}, token=plain.token)) == ["FORBIDDEN"]


async def test_cross_organization_ids_in_client_inputs(gql: GQL, factory: Factory, org_a: Org, org_b: Org) -> None:
    a1 = org_a.locations[0]
    b1 = org_b.locations[0]
    theirs = await make_client(org_b, b1, "Their", "Client")
    their_doc = await make_provider((await factory.user(org_b.organization, username="doc", locations=[b1])).user)
    token = org_a.admin.token
    body = await gql("query ($id: ID!) { client(id: $id) { id } }", {"id": str(theirs.id)}, token=token)
    assert body["data"]["client"] is None
    body = await gql(
        "query ($p: ID) { clients(filter: {primaryProviderId: $p}) { totalCount } }",
        {"p": str(their_doc.id)},
        token=token,
    )
    assert body["data"]["clients"]["totalCount"] == 0
    create = (
        "mutation ($input: CreateClientInput!) { createClient(input: $input) { client { id } errors { code field } } }"
    )
    body = await gql(create, new_client(b1), token=token)
    assert payload_codes(body["data"]["createClient"]) == ["NOT_FOUND"]
    body = await gql(create, new_client(a1, primaryProviderId=str(their_doc.id)), token=token)
    errors = body["data"]["createClient"]["errors"]
    assert {"code": "NOT_FOUND", "field": ["input", "primaryProviderId"]} in errors, errors
    assert body["data"]["createClient"]["client"] is None
    body = await gql(
        """mutation ($id: ID!) { updateClient(input: {id: $id, firstName: "X"}) { errors { code } } }""",
        {"id": str(theirs.id)},
        token=token,
    )
    assert payload_codes(body["data"]["updateClient"]) == ["NOT_FOUND"]
    assert (await Client.get(id=theirs.id)).first_name == "Their"


async def test_moving_a_client_needs_clients_manage_at_both_locations(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    patient = await make_client(org_a, a1, "Pat", "Ient")
    manage = await factory.group(org_a.organization, [P.CLIENTS_READ, P.CLIENTS_MANAGE], locations=[a1])
    read = await factory.group(org_a.organization, [P.CLIENTS_READ])
    actor = await factory.user(org_a.organization, username="m", locations=[a1, a2], groups=[manage, read])
    body = await gql(
        "mutation ($id: ID!, $l: ID!) { updateClient(input: {id: $id, locationId: $l}) { errors { code } } }",
        {"id": str(patient.id), "l": str(a2.id)},
        token=actor.token,
    )
    assert payload_codes(body["data"]["updateClient"]) == ["FORBIDDEN"]
    assert str((await Client.get(id=patient.id)).location_id) == str(a1.id)


async def test_primary_provider_id_is_not_an_existence_oracle(gql: GQL, factory: Factory, org_a: Org) -> None:
    import uuid

    a1, a2 = org_a.locations
    actor = await staff_with(factory, org_a, [P.CLIENTS_READ, P.CLIENTS_MANAGE], [a1])
    hidden = await make_provider((await factory.user(org_a.organization, username="far", locations=[a2])).user)
    create = "mutation ($input: CreateClientInput!) { createClient(input: $input) { errors { code field } } }"
    answers = []
    for provider_id in (str(hidden.id), str(uuid.uuid4())):
        body = await gql(create, new_client(a1, smsConsent=False, primaryProviderId=provider_id), token=actor.token)
        answers.append(body["data"]["createClient"]["errors"])
    assert answers[0] == answers[1]


# --------------------------------------------------------------------------- a move carries portal access

MOVE = """mutation ($id: ID!, $l: ID!) { updateClient(input: {id: $id, locationId: $l}) {
  client { location { id } } errors { code field } } }"""
INVITE = """mutation ($i: InviteClientUserInput!) { inviteClientUser(input: $i) { link errors { code } } }"""


async def _portal_manager_at_a1_only(factory: Factory, org: Org) -> Any:
    a1, a2 = org.locations
    manage = await factory.group(org.organization, [P.CLIENTS_READ, P.CLIENTS_MANAGE])
    portal_here = await factory.group(org.organization, [P.CLIENT_PORTAL_MANAGE], locations=[a1])
    return await factory.user(org.organization, username="mover", locations=[a1, a2], groups=[manage, portal_here])


async def test_a_client_moved_away_invited_and_moved_back_does_not_carry_the_invitation_home(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """Inviting to an A2 client needs CLIENT_PORTAL_MANAGE at A2. Moving the client to A1 (where the
    actor may invite), inviting, then moving it back would carry that invitation to A2: the move
    back is refused, as a merge carrying portal access is (audit 52)."""
    from datetime import date

    from models.portal import ClientPortalLink

    a1, a2 = org_a.locations
    actor = await _portal_manager_at_a1_only(factory, org_a)
    patient = await make_client(org_a, a2, "Noor", "Haddad", date_of_birth=date(1990, 1, 2))
    invite = {"i": {"clientId": str(patient.id), "email": "me@example.org", "send": False}}
    assert payload_codes((await gql(INVITE, invite, token=actor.token))["data"]["inviteClientUser"]) == ["FORBIDDEN"]

    there = await gql(MOVE, {"id": str(patient.id), "l": str(a1.id)}, token=actor.token)
    assert payload_codes(there["data"]["updateClient"]) == []
    assert (await gql(INVITE, invite, token=actor.token))["data"]["inviteClientUser"]["link"]
    back = await gql(MOVE, {"id": str(patient.id), "l": str(a2.id)}, token=actor.token)
    assert back["data"]["updateClient"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "locationId"]}]
    assert (await Client.get(id=patient.id)).location_id == a1.id
    assert not await ClientPortalLink.filter(client_id=patient.id).exists()


async def test_a_client_with_a_portal_account_moves_only_where_the_actor_manages_portal_access(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """An A1 client whose parent has an account: moving it to A2 hands that account to A2, which needs
    CLIENT_PORTAL_MANAGE there; a client with no portal access moves with CLIENTS_MANAGE alone."""
    from models.enums import ProxyRelationship

    a1, a2 = org_a.locations
    actor = await _portal_manager_at_a1_only(factory, org_a)
    linked = await make_client(org_a, a1, "Kid", "Linked")
    await factory.portal_account(org_a, "parent@example.org", [(linked, ProxyRelationship.PARENT)])
    plain = await make_client(org_a, a1, "Kid", "Plain")
    refused = await gql(MOVE, {"id": str(linked.id), "l": str(a2.id)}, token=actor.token)
    assert refused["data"]["updateClient"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "locationId"]}]
    moved = await gql(MOVE, {"id": str(plain.id), "l": str(a2.id)}, token=actor.token)
    assert moved["data"]["updateClient"] == {"client": {"location": {"id": str(a2.id)}}, "errors": []}
    by_admin = await gql(MOVE, {"id": str(linked.id), "l": str(a2.id)}, token=org_a.admin.token)
    assert by_admin["data"]["updateClient"]["errors"] == []
