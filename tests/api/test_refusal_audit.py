"""Every refusal is recorded (docs/architecture.md "Audit and PHI access", issue 7), over HTTP: a top-level FORBIDDEN,
whichever part of
the schema raised it, writes one `<fieldName>.refused` event naming the actor; a page of refused
guarded fields writes one event, not one per row; allowed and unauthenticated requests write none.
"""

from __future__ import annotations

import pytest

from models.audit import AuditEvent
from models.enums import ActorKind
from models.organization import Location
from permissions.catalog import Permission as P
from permissions.errors import forbidden
from resolvers import locations
from tests.factories import make_client, staff_with
from tests.support import count_statements, error_codes

CREATE = """mutation($name: String!) { createLocation(input: {name: $name, timezone: "America/Toronto"}) {
  location { id } errors { code } } }"""
TWICE = """query($id: ID!) { a: user(id: $id) { id } b: user(id: $id) { id } }"""
PAGE = """query($first: Int) { clients(first: $first) { edges { node { id lastName
  coverage { healthCardNumber } } } } }"""


async def _refusals() -> list[AuditEvent]:
    return await AuditEvent.filter(action__endswith=".refused").order_by("occurred_at")


@pytest.fixture
async def manager(factory, org_a):
    """Staff who may read users but not manage locations."""
    return await staff_with(factory, org_a, [P.USERS_READ], list(org_a.locations))


async def test_a_refused_create_location_is_recorded_once(gql, org_a, manager):
    body = await gql(CREATE, {"name": "Westside"}, token=manager.token)
    assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None, body
    [event] = await _refusals()
    assert event.action == "createLocation.refused"
    assert (event.actor_kind, event.actor_id) == (ActorKind.USER, manager.user.id)
    assert event.organization_id == org_a.organization.id
    assert event.request_id == body["extensions"]["requestId"]
    assert event.changes["paths"] == ["createLocation"] and event.changes["count"] == 1
    assert event.changes["operationType"] == "mutation"
    assert event.changes["reasons"] == ["This needs the LOCATIONS_MANAGE permission."]


async def test_an_alias_names_the_path_not_the_action(gql, factory, org_a):
    nobody = await factory.user(org_a.organization, username="nobody", locations=list(org_a.locations))
    body = await gql(TWICE, {"id": str(nobody.user.id)}, token=nobody.token)
    assert error_codes(body) == ["FORBIDDEN", "FORBIDDEN"], body
    [event] = await _refusals()
    assert event.action == "user.refused" and event.actor_id == nobody.user.id
    assert event.changes["paths"] == ["a", "b"] and event.changes["count"] == 2


async def test_a_page_of_refused_coverage_writes_one_event(gql, factory, org_a):
    a1, a2 = org_a.locations
    for i in range(50):
        await make_client(org_a, (a1, a2)[i % 2], f"First{i:02d}", f"Last{i:02d}", health_card_number=f"{i:010d}")
    front_desk = await staff_with(factory, org_a, [P.CLIENTS_READ], [a1, a2])
    body = await gql(PAGE, {"first": 50}, token=front_desk.token)
    assert error_codes(body) == ["FORBIDDEN"] * 50, body
    assert len(body["data"]["clients"]["edges"]) == 50
    [event] = await _refusals()
    assert event.action == "coverage.refused" and event.actor_id == front_desk.user.id
    assert event.changes["count"] == 50 and len(event.changes["paths"]) == 50
    assert event.changes["paths"][0] == "clients.edges.0.node.coverage"
    assert event.changes["operationType"] == "query"


async def test_each_refused_field_writes_its_own_event(gql, factory, org_a):
    a1, _ = org_a.locations
    await make_client(org_a, a1, "Ada", "Lovelace", health_card_number="1234567890")
    front_desk = await staff_with(factory, org_a, [P.CLIENTS_READ], [a1])
    document = PAGE.replace("} } } }", "} } } } user(id: $id) { id }").replace("$first: Int", "$first: Int, $id: ID!")
    body = await gql(document, {"first": 10, "id": str(front_desk.user.id)}, token=front_desk.token)
    assert sorted(error_codes(body)) == ["FORBIDDEN", "FORBIDDEN"], body
    events = await _refusals()
    assert sorted(e.action for e in events) == ["coverage.refused", "user.refused"]
    assert {e.actor_id for e in events} == {front_desk.user.id}
    assert {e.request_id for e in events} == {body["extensions"]["requestId"]}


async def test_an_allowed_request_writes_no_refusal_and_pays_no_statement_for_it(gql, org_a):
    with count_statements() as statements:
        body = await gql(CREATE, {"name": "Westside"}, token=org_a.admin.token)
    assert error_codes(body) == [] and body["data"]["createLocation"]["errors"] == [], body
    assert await _refusals() == []
    writes = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    # The location and its own audit event: nothing more for the refusal log.
    assert len(writes) == 2, writes


async def test_an_unauthenticated_request_writes_no_refusal(gql, org_a):
    body = await gql(CREATE, {"name": "Westside"})
    assert error_codes(body) == ["UNAUTHENTICATED"], body
    assert await _refusals() == []


async def test_a_refusal_outlives_its_rolled_back_mutation(gql, org_a, monkeypatch):
    """A resolver that wrote, then refused inside its transaction: the write is gone, the refusal stays."""

    async def write_then_refuse(ctx, data):
        from tortoise.transactions import in_transaction

        async with in_transaction():
            await Location.create(organization=org_a.organization, name="Ghost", timezone="UTC")
            raise forbidden("Refused after writing.")

    monkeypatch.setattr(locations, "create_location", write_then_refuse)
    body = await gql(CREATE, {"name": "Westside"}, token=org_a.admin.token)
    assert error_codes(body) == ["FORBIDDEN"], body
    assert not await Location.filter(name_key="ghost").exists()
    [event] = await _refusals()
    assert event.action == "createLocation.refused" and event.actor_id == org_a.admin.user.id
    assert event.changes["reasons"] == ["Refused after writing."]
