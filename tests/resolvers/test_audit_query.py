"""The audit trail query: AUDIT_READ (organization-wide), newest first with keyset paging, the
filters, one organization never reading another's, and the read itself recorded once per request."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.audit import AuditEvent
from permissions.catalog import Permission as P
from tests.factories import AUDIT_T0, audit_event, make_client
from tests.support import count_statements, error_codes

QUERY = """query($filter: AuditFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id occurredAt actorKind actorId actorName action targetType targetId
      location { id name } changes ipAddress requestId } }
  }
}"""
T0 = AUDIT_T0
event = audit_event


@pytest.fixture
async def trail(org_a, org_b):
    a1 = org_a.locations[0]
    # A real client the admin may read: an event about an unknown client shows no values.
    target = (await make_client(org_a, a1, "Ann", "Lee")).id
    events = [
        await event(org_a, "user.create", 0, actor_id=org_a.admin.user.id, actor_name="Admin User", target_type="User"),
        await event(org_a, "client.create", 1, target_type="Client", target_id=target, location_id=a1.id),
        await event(org_a, "client.update", 2, target_type="Client", target_id=target, changes={"x": [1, 2]}),
        await event(org_a, "client.coverage.read", 3, target_type="Client", target_id=target),
        await event(org_a, "clients.odd", 4),
        await event(org_b, "client.create", 5, target_type="Client"),
    ]
    return {"a": org_a, "b": org_b, "events": events, "target": target, "a1": a1}


async def read(gql, token, **variables):
    body = await gql(QUERY, variables, token=token)
    assert error_codes(body) == [], body
    return body["data"]["auditEvents"]


def actions(page):
    return [e["node"]["action"] for e in page["edges"]]


async def test_newest_first_and_only_ones_own_organization(gql, trail):
    page = await read(gql, trail["a"].admin.token)
    assert actions(page) == ["clients.odd", "client.coverage.read", "client.update", "client.create", "user.create"]
    assert page["totalCount"] == 5
    first = page["edges"][-1]["node"]
    assert first["actorKind"] == "USER" and first["actorName"] == "Admin User"
    assert first["actorId"] == str(trail["a"].admin.user.id) and first["targetType"] == "User"
    assert first["occurredAt"].startswith("2026-03-01T12:00:00")
    assert page["edges"][2]["node"]["changes"] == {"x": [1, 2]}
    created = page["edges"][3]["node"]
    assert created["location"] == {"id": str(trail["a1"].id), "name": trail["a1"].name}
    assert created["targetId"] == str(trail["target"])
    page = await read(gql, trail["b"].admin.token)
    assert actions(page) == ["client.create"]


async def test_keyset_pages_without_gaps_or_repeats_even_on_ties(gql, org_a):
    for _ in range(5):  # five events of the very same instant: the id orders them
        await event(org_a, "tie", 0)
    await event(org_a, "later", 1)
    seen, after = [], None
    while True:
        page = await read(gql, org_a.admin.token, first=2, after=after, filter={"action": "tie"})
        assert page["totalCount"] == 5
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 5 and len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize(
    ("make_filter", "expected"),
    [
        (lambda t: {"action": "client.update"}, ["client.update"]),
        (lambda t: {"action": "client."}, ["client.coverage.read", "client.update", "client.create"]),
        (lambda t: {"action": "client"}, []),
        (lambda t: {"targetType": "User"}, ["user.create"]),
        (lambda t: {"targetId": str(t["target"])}, ["client.coverage.read", "client.update", "client.create"]),
        (lambda t: {"actorId": str(t["a"].admin.user.id)}, ["user.create"]),
        (
            lambda t: {"from": (T0 + timedelta(minutes=2)).isoformat()},
            ["clients.odd", "client.coverage.read", "client.update"],
        ),
        (lambda t: {"to": (T0 + timedelta(minutes=2)).isoformat()}, ["client.create", "user.create"]),
        (
            lambda t: {
                "from": (T0 + timedelta(minutes=1)).isoformat(),
                "to": (T0 + timedelta(minutes=3)).isoformat(),
                "action": "client.",
            },
            ["client.update", "client.create"],
        ),
    ],
)
async def test_filters(gql, trail, make_filter, expected):
    page = await read(gql, trail["a"].admin.token, filter=make_filter(trail))
    assert actions(page) == expected
    assert page["totalCount"] == len(expected)


@pytest.mark.parametrize(
    "variables",
    [
        {"filter": {"actorId": "not-an-id"}},
        {"filter": {"targetId": "123"}},
        {"filter": {"from": "2026-03-02T00:00:00+00:00", "to": "2026-03-01T00:00:00+00:00"}},
        {"filter": {"from": "2026-03-01T00:00:00+00:00", "to": "2026-03-01T00:00:00+00:00"}},
        {"filter": {"action": "."}},
        {"filter": {"from": "2026-03-01T00:00:00"}},
        {"first": 101},
        {"first": -1},
        {"after": "garbage"},
    ],
)
async def test_bad_input_is_a_top_level_error(gql, trail, variables):
    body = await gql(QUERY, variables, token=trail["a"].admin.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None
    assert await AuditEvent.filter(action="audit.read").count() == 0


async def test_reading_is_recorded_once_per_request_and_never_lists_itself(gql, trail):
    org = trail["a"]
    doc = """{ one: auditEvents(first: 1) { edges { node { action } } }
               two: auditEvents(filter: {action: "client."}) { totalCount } }"""
    body = await gql(doc, token=org.admin.token)
    assert error_codes(body) == []
    assert body["data"]["one"]["edges"][0]["node"]["action"] == "clients.odd"
    reads = await AuditEvent.filter(action="audit.read")
    assert len(reads) == 1
    assert reads[0].actor_id == org.admin.user.id and str(reads[0].organization_id) == org.id
    assert reads[0].request_id == body["extensions"]["requestId"]
    page = await read(gql, org.admin.token, filter={"action": "audit.read"})
    assert page["totalCount"] == 1  # the earlier read; this one is written after its page
    assert page["edges"][0]["node"]["changes"] == {"filter": [None, {}]}
    reads = await AuditEvent.filter(action="audit.read").order_by("occurred_at")
    assert reads[-1].changes == {"filter": [None, {"action": "audit.read"}]}


async def test_needs_audit_read_organization_wide(gql, factory, trail):
    org = trail["a"].organization
    a1 = trail["a1"]
    readers = await factory.group(org, [P.AUDIT_READ])
    restricted = await factory.group(org, [P.AUDIT_READ, P.USERS_READ], locations=[a1])
    reader = await factory.user(org, locations=[a1], groups=[readers])
    only_a1 = await factory.user(org, locations=[a1], groups=[restricted])
    nobody = await factory.user(org, locations=[a1])
    assert (await read(gql, reader.token))["totalCount"] == 5
    for staff in (only_a1, nobody):
        body = await gql(QUERY, {}, token=staff.token)
        assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None
    body = await gql(QUERY, {})
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_locations_cost_one_statement_whatever_the_page_size(gql, factory, org_a):
    admin = org_a.admin.token
    locations = [await factory.location(org_a.organization, f"site {n}") for n in range(6)]
    for n, loc in enumerate(locations[:2]):
        await event(org_a, "x.y", n, location_id=loc.id)
    with count_statements() as few:
        await read(gql, admin)
    for n, loc in enumerate(locations[2:]):
        await event(org_a, "x.y", 10 + n, location_id=loc.id)
    with count_statements() as many:
        page = await read(gql, admin)
    assert sum(1 for e in page["edges"] if e["node"]["location"]) == 6
    assert len(many) == len(few), many
