"""A provincial billing number belongs to one provider of an organization (issue 9): createUser's
billing step and updateProvider refuse a number another provider holds with DUPLICATE at the field;
the unique index (organization_id, provincial_billing_number) decides a race; no number (NULL) may
repeat; another organization may hold the same number."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.enums import UserType
from models.providers import Provider
from permissions.catalog import Permission as P
from resolvers import providers as provider_resolvers
from resolvers import users as user_resolvers
from tests.factories import Factory, make_provider, staff_with
from tests.resolvers.test_users import CREATE, create_input
from tests.support import BACKEND, app_client, own_database, post_graphql

UPDATE = """mutation($input: UpdateProviderInput!) { updateProvider(input: $input) {
  provider { id billing { provincialBillingNumber } } errors { field code message } } }"""


async def _provider(factory, org, name: str, provincial: str | None = None) -> Provider:
    staff = await factory.user(org.organization, type=UserType.PROVIDER, locations=[org.locations[0]], session=False)
    return await make_provider(staff.user, display_name=name, provincial=provincial)


def _errors(body: dict, mutation: str) -> list[tuple[tuple[str, ...], str]]:
    return [(tuple(e["field"]), e["code"]) for e in body["data"][mutation]["errors"]]


async def test_update_provider_refuses_a_number_another_provider_holds(gql, factory, org_a, org_b) -> None:
    await _provider(factory, org_a, "Dr Holder", provincial="123456")
    other = await _provider(factory, org_a, "Dr Other")
    body = await gql(
        UPDATE, {"input": {"id": str(other.id), "provincialBillingNumber": " 123456 "}}, token=org_a.admin.token
    )
    assert _errors(body, "updateProvider") == [(("input", "provincialBillingNumber"), "DUPLICATE")]
    assert (await Provider.get(id=other.id)).provincial_billing_number is None
    # Its own number again, another number, another organization's number: all fine.
    holder = await Provider.get(provincial_billing_number="123456")
    body = await gql(
        UPDATE, {"input": {"id": str(holder.id), "provincialBillingNumber": "123456"}}, token=org_a.admin.token
    )
    assert _errors(body, "updateProvider") == []
    body = await gql(
        UPDATE, {"input": {"id": str(other.id), "provincialBillingNumber": "654321"}}, token=org_a.admin.token
    )
    assert _errors(body, "updateProvider") == []
    foreign = await _provider(factory, org_b, "Dr Elsewhere")
    body = await gql(
        UPDATE, {"input": {"id": str(foreign.id), "provincialBillingNumber": "123456"}}, token=org_b.admin.token
    )
    assert _errors(body, "updateProvider") == []


async def test_create_user_refuses_a_number_another_provider_holds(gql, factory, org_a) -> None:
    await _provider(factory, org_a, "Dr Holder", provincial="123456")
    body = await gql(
        CREATE,
        {"input": create_input("dup", billing={"provincialBillingNumber": "123456", "groupBillingNumber": "AB12"})},
        token=org_a.admin.token,
    )
    assert _errors(body, "createUser") == [(("input", "billing", "provincialBillingNumber"), "DUPLICATE")]
    assert body["data"]["createUser"]["user"] is None
    body = await gql(
        CREATE, {"input": create_input("fresh", billing={"provincialBillingNumber": "654321"})}, token=org_a.admin.token
    )
    assert _errors(body, "createUser") == []


async def test_providers_without_a_number_may_be_many(gql, factory, org_a) -> None:
    await _provider(factory, org_a, "Dr None One")
    second = await _provider(factory, org_a, "Dr None Two", provincial="111111")
    body = await gql(UPDATE, {"input": {"id": str(second.id), "provincialBillingNumber": ""}}, token=org_a.admin.token)
    assert _errors(body, "updateProvider") == []
    for name in ("a", "b"):
        body = await gql(CREATE, {"input": create_input(f"nonum{name}", billing={})}, token=org_a.admin.token)
        assert _errors(body, "createUser") == []
    assert await Provider.filter(organization_id=org_a.organization.id, provincial_billing_number=None).count() == 4


async def test_the_index_refuses_a_second_holder(factory, org_a) -> None:
    await _provider(factory, org_a, "Dr Holder", provincial="123456")
    with pytest.raises(IntegrityError):
        async with in_transaction():  # a savepoint: PostgreSQL aborts the transaction otherwise
            await _provider(factory, org_a, "Dr Second", provincial="123456")


async def test_the_index_decides_when_the_check_saw_nothing(gql, factory, org_a, monkeypatch) -> None:
    """What the loser of a race meets: the friendly check passed, the write hits the index."""

    async def saw_nothing(*args, **kwargs):
        return None

    monkeypatch.setattr(provider_resolvers, "provincial_number_problem", saw_nothing)
    monkeypatch.setattr(user_resolvers, "provincial_number_problem", saw_nothing)
    await _provider(factory, org_a, "Dr Holder", provincial="123456")
    other = await _provider(factory, org_a, "Dr Other")
    body = await gql(
        UPDATE, {"input": {"id": str(other.id), "provincialBillingNumber": "123456"}}, token=org_a.admin.token
    )
    assert _errors(body, "updateProvider") == [(("input", "provincialBillingNumber"), "DUPLICATE")]
    body = await gql(
        CREATE, {"input": create_input("racer", billing={"provincialBillingNumber": "123456"})}, token=org_a.admin.token
    )
    assert _errors(body, "createUser") == [(("input", "billing", "provincialBillingNumber"), "DUPLICATE")]
    assert not await Provider.filter(display_name="Jane Smith").exists()
    # The transaction is usable after the refusal (a savepoint took the error), on PostgreSQL too.
    body = await gql(UPDATE, {"input": {"id": str(other.id), "specialty": "Physio"}}, token=org_a.admin.token)
    assert _errors(body, "updateProvider") == []


@pytest.mark.skipif(BACKEND != "postgres", reason="concurrent writers in separate transactions: PostgreSQL only")
async def test_two_providers_racing_for_one_number_one_wins(tmp_path: Path, settings) -> None:
    async with own_database(tmp_path, "billingrace") as database:
        factory = Factory()
        pairs = []
        for n in range(4):
            org = await factory.organization(f"billingrace{n}")
            pairs.append((org, await _provider(factory, org, "Dr A"), await _provider(factory, org, "Dr B")))
        async with app_client(settings, database, ip="203.0.113.29") as http:

            async def claim(org, provider) -> list:
                variables = {"input": {"id": str(provider.id), "provincialBillingNumber": "123456"}}
                body = await post_graphql(http, UPDATE, variables, org.admin.token)
                return [e["code"] for e in body["data"]["updateProvider"]["errors"]]

            results = await asyncio.gather(*(claim(o, p) for o, a, b in pairs for p in (a, b)))
        for n, (org, _a, _b) in enumerate(pairs):
            assert sorted(results[2 * n : 2 * n + 2]) == [[], ["DUPLICATE"]], results
            assert (
                await Provider.filter(organization_id=org.organization.id, provincial_billing_number="123456").count()
                == 1
            )


async def test_create_user_tells_a_taken_number_only_to_who_may_set_numbers(gql, factory, org_a) -> None:
    """The DUPLICATE answer says that some provider holds a number: an oracle on a guarded value
    (docs/architecture.md "Scoping pairs") for an actor who may not set billing numbers there. It
    gets the same FORBIDDEN for a taken number as for a free one."""
    a1, a2 = org_a.locations
    holder = await factory.user(org_a.organization, type=UserType.PROVIDER, locations=[a2], session=False)
    await make_provider(holder.user, provincial="123456")
    manager = await staff_with(factory, org_a, [P.USERS_MANAGE], [a1])
    answers = []
    for number in ("123456", "654321"):
        body = await gql(
            CREATE,
            {
                "input": create_input(
                    f"probe{number}",
                    sites={"locationIds": [str(a1.id)]},
                    billing={"provincialBillingNumber": number},
                    accessEnabled=False,
                )
            },
            token=manager.token,
        )
        answers.append(_errors(body, "createUser"))
    assert answers == [[(("input", "billing"), "FORBIDDEN")]] * 2
    # Who may set numbers at these sites is still told the number is taken.
    billing = await staff_with(factory, org_a, [P.USERS_MANAGE, P.BILLING_MANAGE], [a1])
    body = await gql(
        CREATE,
        {
            "input": create_input(
                "probe3",
                sites={"locationIds": [str(a1.id)]},
                billing={"provincialBillingNumber": "123456"},
                accessEnabled=False,
            )
        },
        token=billing.token,
    )
    assert _errors(body, "createUser") == [(("input", "billing", "provincialBillingNumber"), "DUPLICATE")]
