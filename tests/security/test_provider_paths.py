"""Every path to a provider, and every change to one, against docs/architecture.md "Principals and grants"."""

from __future__ import annotations

from typing import Any

from models.users import User
from permissions.catalog import Permission as P
from tests.factories import Factory, Org, make_client, make_provider, staff_with
from tests.support import GQL, error_codes, payload_codes

DEACTIVATE = """
mutation ($id: ID!) { deactivateProvider(input: {id: $id}) { provider { id status } errors { code field } } }
"""
UPDATE = """
mutation ($id: ID!) { updateProvider(input: {id: $id, displayName: "Renamed"}) { provider { displayName }
  errors { code field } } }
"""


async def _second_admin(factory: Factory, org: Org) -> None:
    """Another acting admin, so LAST_ADMIN is not what refuses the change."""
    await factory.user(org.organization, username="admin2", is_admin=True, all_locations=True)


async def test_non_admin_cannot_deactivate_an_admins_provider(gql: GQL, factory: Factory, org_a: Org) -> None:
    """Only admins may edit an admin: deactivating an admin's provider makes the admin inactive."""
    await _second_admin(factory, org_a)
    actor = await staff_with(
        factory, org_a, [P.PROVIDERS_READ, P.PROVIDERS_MANAGE, P.PROVIDERS_DEACTIVATE], [], all_locations=True
    )
    target = await make_provider(org_a.admin.user)
    body = await gql(DEACTIVATE, {"id": str(target.id)}, token=actor.token)
    assert "errors" not in body, body
    assert payload_codes(body["data"]["deactivateProvider"]) == ["FORBIDDEN"]
    assert (await User.get(id=org_a.admin.user.id)).is_active


async def test_non_admin_cannot_edit_an_admins_provider(gql: GQL, factory: Factory, org_a: Org) -> None:
    actor = await staff_with(factory, org_a, [P.PROVIDERS_READ, P.PROVIDERS_MANAGE], [], all_locations=True)
    target = await make_provider(org_a.admin.user, "Dr Admin")
    body = await gql(UPDATE, {"id": str(target.id)}, token=actor.token)
    assert payload_codes(body["data"]["updateProvider"]) == ["FORBIDDEN"]


async def test_admin_may_still_deactivate_an_admins_provider(gql: GQL, factory: Factory, org_a: Org) -> None:
    await _second_admin(factory, org_a)
    other = await factory.user(org_a.organization, username="admin3", is_admin=True, all_locations=True)
    target = await make_provider(other.user)
    body = await gql(DEACTIVATE, {"id": str(target.id)}, token=org_a.admin.token)
    assert payload_codes(body["data"]["deactivateProvider"]) == []
    assert body["data"]["deactivateProvider"]["provider"]["status"] == "INACTIVE"


PRIMARY = """
query ($id: ID!) { client(id: $id) { id primaryProvider { displayName specialty status locations { id } } } }
"""


async def test_primary_provider_shows_only_public_fields_without_providers_read(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """docs/architecture.md "Principals and grants": through a client, a provider shows its public fields (display
    name, specialty,
    status); where it works is provider data that needs PROVIDERS_READ at one of its sites."""
    a1, a2 = org_a.locations
    doctor = await factory.user(org_a.organization, username="doc", locations=[a1, a2])
    provider = await make_provider(doctor.user, "Dr Doc")
    patient = await make_client(org_a, a1, "Pat", "Ient", primary_provider=provider)
    viewer = await staff_with(factory, org_a, [P.CLIENTS_READ], [], all_locations=True)
    body = await gql(PRIMARY, {"id": str(patient.id)}, token=viewer.token)
    assert "errors" not in body, body
    shown = body["data"]["client"]["primaryProvider"]
    assert shown["displayName"] == "Dr Doc"
    assert shown["locations"] == []


async def test_primary_provider_billing_needs_billing_read(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1 = org_a.locations[0]
    doctor = await factory.user(org_a.organization, username="doc", locations=[a1])
    provider = await make_provider(doctor.user, provincial_billing_number="123456")
    patient = await make_client(org_a, a1, "Pat", "Ient", primary_provider=provider)
    viewer = await staff_with(factory, org_a, [P.CLIENTS_READ, P.PROVIDERS_READ], [a1])
    body = await gql(
        "query ($id: ID!) { client(id: $id) { primaryProvider { billing { provincialBillingNumber } } } }",
        {"id": str(patient.id)},
        token=viewer.token,
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert "123456" not in str(body)


async def test_cross_organization_provider_ids_are_not_found(
    gql: GQL, factory: Factory, org_a: Org, org_b: Org
) -> None:
    a1 = org_a.locations[0]
    mine = await make_provider((await factory.user(org_a.organization, username="doc", locations=[a1])).user)
    theirs = await make_provider(
        (await factory.user(org_b.organization, username="doc", locations=[org_b.locations[0]])).user
    )
    body: dict[str, Any] = await gql(
        "query ($id: ID!) { provider(id: $id) { id } }", {"id": str(theirs.id)}, token=org_a.admin.token
    )
    assert body["data"]["provider"] is None
    body = await gql(
        """mutation ($id: ID!, $to: ID!) { deactivateProvider(input: {id: $id, reassignClientsToProviderId: $to})
           { errors { code field } } }""",
        {"id": str(mine.id), "to": str(theirs.id)},
        token=org_a.admin.token,
    )
    assert payload_codes(body["data"]["deactivateProvider"]) == ["NOT_FOUND"]
    body = await gql(DEACTIVATE, {"id": str(theirs.id)}, token=org_a.admin.token)
    assert payload_codes(body["data"]["deactivateProvider"]) == ["NOT_FOUND"]


async def test_a_providers_deactivation_dates_do_not_show_through_a_client(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """When a provider leaves is staff (HR) information, not one of the public fields a client's
    reader sees (docs/architecture.md "Principals and grants"): null without PROVIDERS_READ, shown with it."""
    from datetime import UTC, datetime, timedelta

    from models.enums import ProviderStatus

    a1 = org_a.locations[0]
    doctor = await factory.user(org_a.organization, username="doc", locations=[a1])
    leaving = datetime.now(UTC) + timedelta(days=30)
    provider = await make_provider(
        doctor.user, "Dr Doc", status=ProviderStatus.DEACTIVATION_SCHEDULED, deactivate_at=leaving
    )
    patient = await make_client(org_a, a1, "Pat", "Ient", primary_provider=provider)
    query = "query ($id: ID!) { client(id: $id) { primaryProvider { displayName deactivateAt deactivatedAt } } }"

    reader = await staff_with(factory, org_a, [P.CLIENTS_READ], [a1])
    shown = (await gql(query, {"id": str(patient.id)}, token=reader.token))["data"]["client"]["primaryProvider"]
    assert shown == {"displayName": "Dr Doc", "deactivateAt": None, "deactivatedAt": None}

    both = await staff_with(factory, org_a, [P.CLIENTS_READ, P.PROVIDERS_READ], [a1])
    shown = (await gql(query, {"id": str(patient.id)}, token=both.token))["data"]["client"]["primaryProvider"]
    assert shown["deactivateAt"] is not None


async def test_provider_search_by_last_name_only_among_users_the_viewer_may_see(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """`Provider.user` is guarded (docs/architecture.md "Scoping pairs"): the `search` filter matches a
    user's last name only where the viewer may see that user, or it would tell the hidden user's name."""
    a1 = org_a.locations[0]
    doc = await factory.user(org_a.organization, last_name="Zebulon", locations=[a1], session=False)
    await make_provider(doc.user, "Dr Who")
    query = "query ($s: String) { providers(filter: {search: $s}) { totalCount edges { node { displayName } } } }"
    no_users = await staff_with(factory, org_a, [P.PROVIDERS_READ], [a1])
    body = await gql(query, {"s": "zebu"}, token=no_users.token)
    assert body["data"]["providers"] == {"totalCount": 0, "edges": []}
    body = await gql(query, {"s": "dr wh"}, token=no_users.token)  # the display name, which it may read
    assert body["data"]["providers"]["edges"] == [{"node": {"displayName": "Dr Who"}}]
    readers = await staff_with(factory, org_a, [P.PROVIDERS_READ, P.USERS_READ], [a1])
    body = await gql(query, {"s": "zebu"}, token=readers.token)
    assert body["data"]["providers"]["edges"] == [{"node": {"displayName": "Dr Who"}}]


async def test_a_scheduled_deactivation_does_not_show_through_a_client_as_its_status(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """`deactivateAt` is null through a client without PROVIDERS_READ (when a provider leaves is HR's):
    its status does not tell it either, for staff or for the patient's own portal account (audit 52)."""
    from datetime import UTC, datetime, timedelta

    from models.enums import ProviderStatus, ProxyRelationship

    a1 = org_a.locations[0]
    doctor = await factory.user(org_a.organization, username="doc", locations=[a1])
    provider = await make_provider(
        doctor.user,
        "Dr Doc",
        status=ProviderStatus.DEACTIVATION_SCHEDULED,
        deactivate_at=datetime.now(UTC) + timedelta(days=30),
    )
    patient = await make_client(org_a, a1, "Pat", "Ient", primary_provider=provider)
    reader = await staff_with(factory, org_a, [P.CLIENTS_READ], [a1])
    own = await factory.portal_account(org_a, "pat@example.org", [(patient, ProxyRelationship.SELF)])
    query = "query ($id: ID!) { client(id: $id) { primaryProvider { status deactivateAt } } }"
    for token in (reader.token, own.token):
        shown = (await gql(query, {"id": str(patient.id)}, token=token))["data"]["client"]["primaryProvider"]
        assert shown == {"status": "ACTIVE", "deactivateAt": None}, shown
    hr = await staff_with(factory, org_a, [P.CLIENTS_READ, P.PROVIDERS_READ], [a1])
    shown = (await gql(query, {"id": str(patient.id)}, token=hr.token))["data"]["client"]["primaryProvider"]
    assert shown["status"] == "DEACTIVATION_SCHEDULED" and shown["deactivateAt"] is not None
