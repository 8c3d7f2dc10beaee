"""docs/architecture.md "Audit and PHI access", "the trail is no side door": an event about a client shows every
AUDIT_READ holder which
fields changed, but their values only to a reader who may read that client (`can_see_client`), and
coverage values only with CLIENTS_COVERAGE_READ at its location. Values shown are a PHI read: the
request's one `client.read` access event names the client (coverage flagged); a fully redacted
page writes none."""

from __future__ import annotations

import uuid

import pytest

from models.audit import AuditEvent
from models.enums import UserType
from permissions.catalog import Permission as P
from resolvers.audit_query import REDACTED
from resolvers.client_input import COVERAGE_READ_FIELDS
from tests.factories import audit_event, make_client, make_provider, staff_with
from tests.support import count_statements, error_codes

QUERY = """query($filter: AuditFilter, $first: Int) {
  auditEvents(filter: $filter, first: $first) { edges { node { action targetType targetId changes } } }
}"""
UPDATE = """mutation($input: UpdateClientInput!) { updateClient(input: $input) { client { id } errors { code } } }"""
HIDDEN = [REDACTED, REDACTED]


@pytest.fixture
async def chart(gql, factory, org_a):
    """A client at A1 whose primary provider reads the trail, updated by the admin (profile and
    coverage), and readers holding AUDIT_READ with more or less of the client rule."""
    a1, a2 = org_a.locations
    own = await staff_with(factory, org_a, [P.AUDIT_READ, P.CLIENTS_READ_OWN], [a1], type=UserType.PROVIDER)
    other = await staff_with(factory, org_a, [P.AUDIT_READ, P.CLIENTS_READ_OWN], [a1], type=UserType.PROVIDER)
    for staff in (own, other):
        await make_provider(staff.user)
    client = await make_client(
        org_a,
        a1,
        "Ann",
        "Lee",
        provider=await make_provider(own.user),
        health_card_province="ON",
        health_card_number="9876543217",
    )
    body = await gql(
        UPDATE,
        {"input": {"id": str(client.id), "firstName": "Anne", "coverage": {"healthCardNumber": "1234567897"}}},
        token=org_a.admin.token,
    )
    assert error_codes(body) == [] and body["data"]["updateClient"]["errors"] == [], body
    stored = (await AuditEvent.get(action="client.update", target_id=client.id)).changes
    assert {"first_name", "health_card_number"} <= set(stored), stored
    readers = {
        "audit only": await staff_with(factory, org_a, [P.AUDIT_READ], [a1]),
        "elsewhere": await staff_with(factory, org_a, [P.AUDIT_READ, P.CLIENTS_READ, P.CLIENTS_COVERAGE_READ], [a2]),
        "desk": await staff_with(factory, org_a, [P.AUDIT_READ, P.CLIENTS_READ], [a1]),
        "billing": await staff_with(factory, org_a, [P.AUDIT_READ, P.CLIENTS_READ, P.CLIENTS_COVERAGE_READ], [a1]),
        "own provider": own,
        "other provider": other,
    }
    return {"org": org_a, "client": client, "stored": stored, "readers": readers}


async def read(gql, token: str, **variables) -> list[dict]:
    body = await gql(QUERY, variables, token=token)
    assert error_codes(body) == [], body
    return [e["node"] for e in body["data"]["auditEvents"]["edges"]]


async def access_events(staff) -> list[AuditEvent]:
    return await AuditEvent.filter(action="client.read", actor_id=staff.user.id)


def expected(stored: dict, shows: str) -> dict:
    """`stored` as a reader who sees nothing, the ordinary values, or everything should get it."""
    if shows == "all":
        return stored
    if shows == "ordinary":
        return {k: HIDDEN if k in COVERAGE_READ_FIELDS else v for k, v in stored.items()}
    return {k: HIDDEN for k in stored}


@pytest.mark.parametrize(
    ("reader", "shows"),
    [
        ("audit only", "nothing"),  # (a) no client permission at all
        ("elsewhere", "nothing"),  # (a) CLIENTS_READ and coverage, but at another location
        ("other provider", "nothing"),  # CLIENTS_READ_OWN for someone else's client
        ("desk", "ordinary"),  # (b) CLIENTS_READ without CLIENTS_COVERAGE_READ
        ("own provider", "ordinary"),  # (b) CLIENTS_READ_OWN as the client's primary provider
        ("billing", "all"),  # (c) both
    ],
)
async def test_values_follow_the_client_rule_and_are_logged_as_a_phi_read(gql, chart, reader, shows):
    staff, client, stored = chart["readers"][reader], chart["client"], chart["stored"]
    [event] = await read(gql, staff.token, filter={"action": "client.update", "targetId": str(client.id)})
    # Every changed field is named, whoever reads; only its values depend on the reader.
    assert event["changes"] == expected(stored, shows)
    logged = await access_events(staff)
    if shows == "nothing":
        assert logged == []  # (d) nothing shown, nothing logged
        return
    # (d) one access event for the request, naming the client, coverage flagged only when shown.
    assert len(logged) == 1
    assert logged[0].changes == {
        "clientIds": [str(client.id)],
        "coverageClientIds": [str(client.id)] if shows == "all" else [],
    }


async def test_access_log_events_keep_their_client_ids_for_any_audit_reader(gql, chart):
    """The PHI access log's own events carry client ids only (as `targetId` does): shown as they are,
    and reading them is no read of the client."""
    staff, client = chart["readers"]["audit only"], chart["client"]
    events = await read(gql, staff.token, filter={"targetId": str(client.id)})
    assert {e["action"] for e in events} == {"client.update", "client.read"}
    for event in events:
        if event["action"] == "client.read":
            assert event["changes"]["clientIds"] == [str(client.id)]
        else:
            assert all(value == HIDDEN for value in event["changes"].values())
    assert await access_events(staff) == []


async def hand_written(org, action: str, target_type: str, target_id, minutes: int = 0, **extra) -> AuditEvent:
    changes = {"first_name": ["Ann", "Anne"], "health_card_number": ["…7217", "…7897"]}
    return await audit_event(
        org, action, minutes, target_type=target_type, target_id=target_id, changes=changes, **extra
    )


async def test_a_capitalized_target_type_is_a_client_event_too(gql, chart):
    org, client = chart["org"], chart["client"]
    await hand_written(org, "client.import", "Client", client.id)
    only_audit = chart["readers"]["audit only"]
    [event] = await read(gql, only_audit.token, filter={"action": "client.import"})
    assert event["changes"] == {"first_name": HIDDEN, "health_card_number": HIDDEN}
    billing = chart["readers"]["billing"]
    [event] = await read(gql, billing.token, filter={"action": "client.import"})
    assert event["changes"] == {"first_name": ["Ann", "Anne"], "health_card_number": ["…7217", "…7897"]}
    assert [e.changes["coverageClientIds"] for e in await access_events(billing)] == [[str(client.id)]]


async def test_a_client_not_found_in_the_organization_shows_no_values_even_to_an_admin(gql, chart, org_b):
    """An admin holds CLIENTS_READ at ALL locations, so only the organization check stands between
    an event naming another organization's client (or none) and that client's values."""
    org = chart["org"]
    foreign = await make_client(org_b, org_b.locations[0], "Bea", "Other")
    await hand_written(org, "client.odd", "client", foreign.id, minutes=0)
    await hand_written(org, "client.odd", "client", uuid.uuid4(), minutes=1)
    await hand_written(org, "client.odd", "client", None, minutes=2)
    before = len(await access_events(org.admin))  # its updateClient in `chart` returned the client
    events = await read(gql, org.admin.token, filter={"action": "client.odd"})
    assert [e["changes"] for e in events] == [{"first_name": HIDDEN, "health_card_number": HIDDEN}] * 3
    assert len(await access_events(org.admin)) == before


async def test_a_page_of_client_events_costs_the_same_statements_and_one_access_event(gql, factory, org_a):
    """The clients of a page are loaded in one statement, whatever their number (docs/architecture.md "Performance
    rules"), and the
    access event is one insert naming exactly the clients whose values were shown."""
    a1, a2 = org_a.locations
    desk = await staff_with(factory, org_a, [P.AUDIT_READ, P.CLIENTS_READ], [a1])
    clients = [await make_client(org_a, (a1, a2)[n % 2], f"First{n}", f"Last{n}") for n in range(8)]

    async def cost(count: int) -> tuple[int, list[str]]:
        await AuditEvent.filter(action="client.update").delete()
        await AuditEvent.filter(action="client.read").delete()
        for n, client in enumerate(clients[:count]):
            await hand_written(org_a, "client.update", "client", client.id, minutes=n)
        with count_statements() as statements:
            events = await read(gql, desk.token, filter={"action": "client.update"})
        assert len(events) == count
        [logged] = await access_events(desk)
        return len(statements), logged.changes["clientIds"]

    few, shown_few = await cost(2)
    many, shown_many = await cost(8)
    assert few == many, (few, many)
    assert shown_few == [str(clients[0].id)]
    assert shown_many == sorted(str(c.id) for c in clients[::2])  # those at A1 only
