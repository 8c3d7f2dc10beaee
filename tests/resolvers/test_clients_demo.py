"""The demo's clinical step: providers, 200 deterministic clients, valid cards, near-duplicates."""

from __future__ import annotations

from app import demo_clinical
from models.clients import Client
from models.enums import ClientStatus, HealthCardCheck
from models.providers import Provider
from models.users import UserLocation
from resolvers.health_cards import check_health_card
from tests.support import error_codes


async def test_load_makes_providers_and_clients(factory, gql):
    org = await factory.organization("demo-clinical")
    locations = {loc.name: loc for loc in org.locations}
    # The step looks locations up by the demo's names; map ours onto them.
    named = dict(zip(["Downtown", "Uptown"], locations.values(), strict=True))
    await demo_clinical.load(org.organization, named)
    assert await Provider.filter(organization_id=org.id).count() == 6
    clients = await Client.filter(organization_id=org.id)
    assert len(clients) == demo_clinical.CLIENT_COUNT
    assert {c.location_id for c in clients} == {loc.id for loc in org.locations}
    cards = [c for c in clients if c.health_card_number]
    assert len(cards) > 40
    assert all(
        check_health_card("ON", c.health_card_number, c.health_card_version) is HealthCardCheck.VALID for c in cards
    )
    pending = [c for c in clients if c.status is ClientStatus.PENDING_REVIEW]
    assert len(pending) == len(demo_clinical.NEAR_DUPLICATES)
    for dup in pending:
        assert any(
            c.date_of_birth == dup.date_of_birth and c.id != dup.id and c.last_name_key[:1] == dup.last_name_key[:1]
            for c in clients
        )
    # Every primary provider practises at the client's location.
    providers = {str(p.id): p for p in await Provider.filter(organization_id=org.id).select_related("user")}
    sites = {
        (str(u), str(loc))
        for u, loc in await UserLocation.filter(organization_id=org.id).values_list("user_id", "location_id")
    }
    with_provider = [c for c in clients if c.primary_provider_id]
    assert len(with_provider) > 100
    for c in with_provider:
        p = providers[str(c.primary_provider_id)]
        assert p.user.all_locations or (str(p.user_id), str(c.location_id)) in sites
    # Deterministic: a second clinic loaded the same way gets the same people.
    other = await factory.organization("demo-clinical-2")
    await demo_clinical.load(other.organization, dict(zip(["Downtown", "Uptown"], other.locations, strict=True)))
    again = await Client.filter(organization_id=other.id)
    assert sorted((c.last_name, c.first_name, c.date_of_birth) for c in again) == sorted(
        (c.last_name, c.first_name, c.date_of_birth) for c in clients
    )
    # A provider login sees "My Clients".
    body = await gql(
        'mutation($p: String!) { login(input: {organizationSlug: "demo-clinical", username: "dr.patel", '
        "password: $p}) { token errors { code } } }",
        {"p": demo_clinical.PROVIDER_PASSWORD},
    )
    token = body["data"]["login"]["token"]
    body = await gql(
        "{ myClients(first: 100) { totalCount edges { node { primaryProvider { displayName } } } } }", token=token
    )
    assert error_codes(body) == []
    mine = body["data"]["myClients"]
    assert mine["totalCount"] > 5
    assert {e["node"]["primaryProvider"]["displayName"] for e in mine["edges"]} == {"Priya Patel"}
