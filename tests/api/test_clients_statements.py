"""docs/architecture.md "Performance rules": a page of clients with its nested relations costs a number of SQL
statements bounded
by the query's depth, never by the page size, the PHI access log's one insert included."""

from __future__ import annotations

import pytest

from permissions.catalog import Permission as P
from tests.factories import make_client, make_provider, staff_with
from tests.support import count_statements, error_codes

PAGE = """query($first: Int) { clients(first: $first) { edges { node { location { name }
  primaryProvider { displayName user { displayName } } coverage { healthCardNumber } } } } }"""


@pytest.fixture
async def sixty_clients(factory, org_a):
    a1, a2 = org_a.locations
    providers = []
    for i in range(4):
        staff = await staff_with(factory, org_a, [P.CLIENTS_READ_OWN], [a1, a2], first_name=f"Doc{i}")
        providers.append(await make_provider(staff.user, f"Doctor {i}"))
    for i in range(60):
        await make_client(
            org_a,
            (a1, a2)[i % 2],
            f"First{i:02d}",
            f"Last{i:02d}",
            provider=providers[i % 4],
            health_card_number=f"{i:010d}",
        )
    billing = await staff_with(factory, org_a, [P.CLIENTS_READ, P.CLIENTS_COVERAGE_READ, P.USERS_READ], [a1, a2])
    return {"admin": org_a.admin, "billing": billing}


async def _cost(gql, token: str, first: int) -> int:
    with count_statements() as statements:
        body = await gql(PAGE, {"first": first}, token=token)
    assert error_codes(body) == [], body
    edges = body["data"]["clients"]["edges"]
    assert len(edges) == first
    assert all(e["node"]["primaryProvider"]["user"]["displayName"].startswith("Doc") for e in edges)
    assert all(e["node"]["coverage"]["healthCardNumber"] for e in edges)
    return len(statements)


@pytest.mark.parametrize("who", ["admin", "billing"])
async def test_a_page_costs_the_same_for_10_and_50_clients(gql, sixty_clients, who):
    token = sixty_clients[who].token
    small = await _cost(gql, token, 10)
    large = await _cost(gql, token, 50)
    assert small == large, (small, large)
    assert large <= 8, large


LIST = """query($first: Int) { clients(first: $first) { edges { node { id firstName
  location { id name timezone } primaryProvider { id displayName } } } } }"""
# The same relations, each with a field that has a resolver: read through the DataLoaders.
LOADED = """query($first: Int) { clients(first: $first) { edges { node { id firstName
  location { id name timezone address { city } } primaryProvider { id displayName clientCount } } } } }"""
ONE = "query($id: ID!) { client(id: $id) { id location { name } primaryProvider { displayName } } }"


async def test_a_list_page_is_three_statements_session_page_and_access_log(gql, sixty_clients, org_a):
    """The issue-8 shape (docs/architecture.md "Performance rules"): location and primary provider
    asked for plain columns are joined in the page's own statement (schema/joins.py)."""
    await make_client(org_a, org_a.locations[0], "Aaron", "Aardvark")  # no primary provider
    with count_statements() as statements:
        body = await gql(LIST, {"first": 50}, token=sixty_clients["admin"].token)
    assert error_codes(body) == [], body
    assert len(statements) == 3, statements
    one = body["data"]["clients"]["edges"][0]["node"]
    with count_statements() as statements:
        single = await gql(ONE, {"id": one["id"]}, token=sixty_clients["admin"].token)
    assert len(statements) == 3, statements
    assert single["data"]["client"]["location"]["name"] == one["location"]["name"]


async def test_joined_relations_answer_as_the_loaded_ones(gql, sixty_clients, org_a):
    await make_client(org_a, org_a.locations[0], "Aaron", "Aardvark")  # no primary provider
    token = sixty_clients["admin"].token
    joined = (await gql(LIST, {"first": 61}, token=token))["data"]["clients"]["edges"]
    loaded = (await gql(LOADED, {"first": 61}, token=token))["data"]["clients"]["edges"]
    assert joined[0]["node"]["firstName"] == "Aaron" and joined[0]["node"]["primaryProvider"] is None
    for a, b in zip(joined, loaded, strict=True):
        b["node"]["location"].pop("address")
        if b["node"]["primaryProvider"] is not None:
            b["node"]["primaryProvider"].pop("clientCount")
        assert a == b
