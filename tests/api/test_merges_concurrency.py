"""Merge races on PostgreSQL, in real, separate transactions: two merges of one client at once (into
two survivors, or the same one twice) leave exactly one merge; merging two clients into each other at
once leaves one merged into the other, never both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from models.clients import Client
from models.enums import ClientStatus
from models.merges import ClientMerge
from permissions.catalog import Permission as P
from tests.api.test_merges import MERGE
from tests.factories import Factory, make_client, staff_with
from tests.support import BACKEND, app_client, own_database, payload_codes, post_graphql

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="needs parallel requests on separate connections and transactions: PostgreSQL only",
)


@pytest.fixture
async def race(tmp_path: Path, settings) -> AsyncIterator[dict[str, Any]]:
    async with own_database(tmp_path, "mergerace") as database:
        factory = Factory()
        org = await factory.organization("race")
        reviewer = await staff_with(factory, org, [P.CLIENTS_READ, P.CLIENTS_MERGE], org.locations)
        clients = [await make_client(org, org.locations[0], "Ana", f"Race{n}") for n in range(3)]
        async with app_client(settings, database, ip="203.0.113.50") as http:
            yield {"http": http, "token": reviewer.token, "clients": clients}


async def _merge(race: dict[str, Any], source: Client, target: Client) -> list[str]:
    variables = {"i": {"sourceId": str(source.id), "targetId": str(target.id)}}
    body = await post_graphql(race["http"], MERGE, variables, race["token"])
    return payload_codes(body["data"]["mergeClients"])


async def test_one_client_merged_into_two_survivors_at_once_is_merged_once(race) -> None:
    source, first, second = race["clients"]
    answers = await asyncio.gather(_merge(race, source, first), _merge(race, source, second))
    assert sorted(answers) == [[], ["INVALID"]] or sorted(answers) == [[], ["CONFLICT"]], answers
    assert await ClientMerge.filter(source_id=source.id).count() == 1
    assert await Client.filter(status=ClientStatus.MERGED).count() == 1


async def test_two_clients_merged_into_each_other_at_once_leave_one_survivor(race) -> None:
    one, two, _ = race["clients"]
    answers = await asyncio.gather(_merge(race, one, two), _merge(race, two, one))
    assert [] in answers and answers.count([]) == 1, answers
    assert await Client.filter(status=ClientStatus.MERGED).count() == 1


async def test_sign_ups_racing_on_one_email_make_one_account(race) -> None:
    from models.portal import PortalAccount
    from tests.api.test_merges import SIGN_UP, sign_up_input

    clients = race["clients"]
    variables = {"i": {**sign_up_input(str(clients[0].location_id)), "organizationSlug": "race"}}
    bodies = await asyncio.gather(*(post_graphql(race["http"], SIGN_UP, variables) for _ in range(3)))
    codes = sorted(tuple(payload_codes(b["data"]["portalSignUp"])) for b in bodies)
    assert codes == [(), ("DUPLICATE",), ("DUPLICATE",)], bodies
    assert await PortalAccount.all().count() == 1
