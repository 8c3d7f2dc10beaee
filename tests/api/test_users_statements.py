"""docs/architecture.md "Performance rules": a page of users with locations, groups and effective permissions costs a
fixed number
of statements (session + grants + page + one per relation), the same for 10 users as for 50."""

from __future__ import annotations

from permissions.catalog import Permission as P
from tests.support import count_statements

PAGE = """query($first: Int) { users(first: $first) {
  edges { cursor node { id username locations { id name } permissionGroups { id name }
                        effectivePermissions { permission allLocations } } }
  pageInfo { hasNextPage endCursor } } }"""
COUNTED = "query($first: Int) { users(first: $first) { totalCount edges { node { id } } } }"


async def _staff(factory, org, n: int) -> None:
    a1, a2 = org.locations
    groups = [
        await factory.group(
            org.organization, [P.USERS_READ, P.CLIENTS_READ], name=f"g{i}", locations=[a1] if i else None
        )
        for i in range(3)
    ]
    for i in range(n):
        await factory.user(
            org.organization,
            username=f"staff{i:03d}",
            locations=[a1, a2] if i % 2 else [a1],
            groups=groups[: 1 + i % 3],
            session=False,
        )


async def _statements(gql, token: str, first: int) -> tuple[int, dict]:
    with count_statements() as statements:
        body = await gql(PAGE, {"first": first}, token=token)
    return len(statements), body


async def test_a_page_of_users_costs_a_fixed_number_of_statements(gql, factory, org_a):
    await _staff(factory, org_a, 60)
    small, body10 = await _statements(gql, org_a.admin.token, 10)
    large, body50 = await _statements(gql, org_a.admin.token, 50)
    assert "errors" not in body50, body50
    edges = body50["data"]["users"]["edges"]
    assert len(edges) == 50 and body50["data"]["users"]["pageInfo"]["hasNextPage"]
    assert len(body10["data"]["users"]["edges"]) == 10
    assert small == large <= 5, (small, large)
    staff = next(e["node"] for e in edges if e["node"]["username"] == "staff001")
    assert len(staff["locations"]) == 2 and len(staff["permissionGroups"]) == 2
    assert {p["permission"] for p in staff["effectivePermissions"]} == {"USERS_READ", "CLIENTS_READ"}


async def test_total_count_costs_one_statement_more(gql, factory, org_a):
    await _staff(factory, org_a, 12)
    with count_statements() as statements:
        body = await gql(COUNTED, {"first": 5}, token=org_a.admin.token)
    assert body["data"]["users"]["totalCount"] == 13
    assert len(statements) == 3  # the session with grants, the page, its count
