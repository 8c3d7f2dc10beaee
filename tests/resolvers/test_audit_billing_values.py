"""docs/architecture.md "Audit and PHI access", "the trail is no side door", for billing numbers: a
provider's billing numbers are guarded by BILLING_READ at one of the provider's sites (the
`Provider.billing` field), so an event about a provider names a changed number to every AUDIT_READ
holder but shows its values only to a reader who may read that provider's billing now. The other
changed fields show as they are."""

from __future__ import annotations

import uuid

import pytest

from models.enums import UserType
from permissions.catalog import Permission as P
from resolvers.audit_query import REDACTED
from tests.factories import audit_event, make_provider, staff_with
from tests.support import count_statements, error_codes

QUERY = """query($filter: AuditFilter) {
  auditEvents(filter: $filter) { edges { node { action targetId changes } } }
}"""
UPDATE = """mutation($input: UpdateProviderInput!) { updateProvider(input: $input) { errors { code } } }"""
HIDDEN = [REDACTED, REDACTED]


@pytest.fixture
async def billed(gql, factory, org_a):
    """A provider at A1 whose numbers and specialty the admin changed, and AUDIT_READ holders with
    BILLING_READ nowhere, at A2 only, or at A1."""
    a1, a2 = org_a.locations
    staff = await factory.user(org_a.organization, type=UserType.PROVIDER, locations=[a1], session=False)
    provider = await make_provider(staff.user, provincial="123456", group="AB12")
    body = await gql(
        UPDATE,
        {"input": {"id": str(provider.id), "provincialBillingNumber": "654321", "specialty": "Physio"}},
        token=org_a.admin.token,
    )
    assert error_codes(body) == [] and body["data"]["updateProvider"]["errors"] == [], body
    readers = {
        "audit only": await staff_with(factory, org_a, [P.AUDIT_READ, P.PROVIDERS_READ], [a1, a2]),
        "elsewhere": await staff_with(factory, org_a, [P.AUDIT_READ, P.BILLING_READ], [a2]),
        "billing": await staff_with(factory, org_a, [P.AUDIT_READ, P.BILLING_READ], [a1]),
    }
    return {"org": org_a, "provider": provider, "readers": readers}


async def read(gql, token: str, **filter) -> list[dict]:
    body = await gql(QUERY, {"filter": filter}, token=token)
    assert error_codes(body) == [], body
    return [e["node"] for e in body["data"]["auditEvents"]["edges"]]


@pytest.mark.parametrize(("reader", "shown"), [("audit only", False), ("elsewhere", False), ("billing", True)])
async def test_billing_values_follow_the_billing_rule(gql, billed, reader, shown):
    staff, provider = billed["readers"][reader], billed["provider"]
    [event] = await read(gql, staff.token, action="provider.update", targetId=str(provider.id))
    number = ["123456", "654321"] if shown else HIDDEN
    assert event["changes"] == {"provincial_billing_number": number, "specialty": [None, "Physio"]}


async def test_a_provider_not_found_in_the_organization_shows_no_billing_values(gql, billed, factory, org_b):
    org = billed["org"]
    foreign_staff = await factory.user(org_b.organization, locations=[org_b.locations[0]], session=False)
    foreign = await make_provider(foreign_staff.user)
    changes = {"group_billing_number": ["AB12", "CD34"], "display_name": ["A", "B"]}
    for minutes, target in enumerate((foreign.id, uuid.uuid4(), None)):
        await audit_event(org, "provider.odd", minutes, target_type="provider", target_id=target, changes=changes)
    events = await read(gql, org.admin.token, action="provider.odd")
    assert [e["changes"] for e in events] == [{"group_billing_number": HIDDEN, "display_name": ["A", "B"]}] * 3


async def test_a_page_of_provider_events_costs_the_same_statements(gql, factory, org_a):
    a1 = org_a.locations[0]
    reader = await staff_with(factory, org_a, [P.AUDIT_READ, P.BILLING_READ], [a1])
    providers = []
    for _ in range(8):
        staff = await factory.user(org_a.organization, locations=[a1], session=False)
        providers.append(await make_provider(staff.user))

    async def cost(count: int) -> int:
        for n, provider in enumerate(providers[:count]):
            changes = {"provincial_billing_number": [None, f"{n:06d}"]}
            await audit_event(
                org_a, f"provider.cost{count}", n, target_type="Provider", target_id=provider.id, changes=changes
            )
        with count_statements() as statements:
            events = await read(gql, reader.token, action=f"provider.cost{count}")
        assert len(events) == count and all(e["changes"]["provincial_billing_number"] != HIDDEN for e in events)
        return len(statements)

    assert await cost(2) == await cost(8)
