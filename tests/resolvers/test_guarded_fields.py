"""Guarded `Provider.user` and `Client.invitations` say so when refused, like coverage and billing
(issue 9): the provider's user is null with one FORBIDDEN error at its path; the invitations, a
non-null list in the contract, are empty with one FORBIDDEN error at their path (a raised error would
null the client). Both refusals reach the audit trail like every other FORBIDDEN."""

from __future__ import annotations

from models.audit import AuditEvent
from models.clients import Client
from models.enums import UserType
from models.providers import Provider
from permissions.catalog import Permission as P
from tests.factories import make_client, make_provider
from tests.support import error_codes

PROVIDER_USER = "query($id: ID!) { provider(id: $id) { displayName user { id } } }"
CLIENTS_INVITATIONS = "{ clients { edges { node { lastName invitations { id } } } } }"


async def _provider(factory, org, locations) -> Provider:
    staff = await factory.user(org.organization, type=UserType.PROVIDER, locations=locations, session=False)
    return await make_provider(staff.user, "Dr Ada Lane")


async def _client(org, location, last: str) -> Client:
    return await make_client(org, location, "Pat", last)


async def test_a_provider_user_out_of_sight_is_null_with_one_forbidden(gql, factory, org_a) -> None:
    a1 = org_a.locations[0]
    provider = await _provider(factory, org_a, [a1])
    reader = await factory.user(
        org_a.organization, locations=[a1], groups=[await factory.group(org_a.organization, [P.PROVIDERS_READ])]
    )
    body = await gql(PROVIDER_USER, {"id": str(provider.id)}, token=reader.token)
    assert body["data"]["provider"] == {"displayName": "Dr Ada Lane", "user": None}
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["provider", "user"]
    assert await AuditEvent.filter(action="user.refused", actor_id=reader.user.id).count() == 1
    users_reader = await factory.user(
        org_a.organization,
        locations=[a1],
        groups=[await factory.group(org_a.organization, [P.PROVIDERS_READ, P.USERS_READ])],
    )
    body = await gql(PROVIDER_USER, {"id": str(provider.id)}, token=users_reader.token)
    assert error_codes(body) == []
    assert body["data"]["provider"]["user"] == {"id": str(provider.user_id)}


async def test_client_invitations_refused_are_empty_with_one_forbidden_each(gql, factory, org_a) -> None:
    a1, a2 = org_a.locations
    await _client(org_a, a1, "Alpha")
    await _client(org_a, a2, "Bravo")
    readers = await factory.group(org_a.organization, [P.CLIENTS_READ])
    portal_a1 = await factory.group(org_a.organization, [P.CLIENT_PORTAL_MANAGE], locations=[a1])
    viewer = await factory.user(org_a.organization, locations=[a1, a2], groups=[readers, portal_a1])
    body = await gql(CLIENTS_INVITATIONS, token=viewer.token)
    nodes = [e["node"] for e in body["data"]["clients"]["edges"]]
    assert nodes == [{"lastName": "Alpha", "invitations": []}, {"lastName": "Bravo", "invitations": []}]
    # Held at A1 only: one FORBIDDEN, at Bravo's invitations; neither client is nulled.
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["clients", "edges", 1, "node", "invitations"]
    assert body["errors"][0]["locations"]
    event = await AuditEvent.get(action="invitations.refused", actor_id=viewer.user.id)
    assert event.changes["paths"] == ["clients.edges.1.node.invitations"]
    body = await gql(CLIENTS_INVITATIONS, token=org_a.admin.token)
    assert error_codes(body) == []
