"""Optimistic concurrency on PostgreSQL: parallel `updateClient` calls carrying one `expectedVersion`
run in real, separate transactions (a fresh database, not the rolled-back test transaction), and
exactly one of them wins; the others get CONFLICT and change nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from models.audit import AuditEvent
from models.clients import Client
from permissions.catalog import Permission as P
from tests.factories import Factory, Staff, make_client, staff_with
from tests.support import BACKEND, app_client, needs_concurrent_writers, own_database, post_graphql

UPDATE = """mutation($input: UpdateClientInput!) {
  updateClient(input: $input) { client { version firstName } errors { field code } }
}"""


async def desk_and_client(slug: str) -> tuple[Staff, Client]:
    """An organization `slug`, a front desk user who may manage clients at its first location, and a client there."""
    factory = Factory()
    org = await factory.organization(slug)
    desk = await staff_with(factory, org, [P.CLIENTS_READ, P.CLIENTS_MANAGE], [org.locations[0]])
    return desk, await make_client(org, org.locations[0], "Nora", "Vale")


async def save(http: httpx.AsyncClient, desk: Staff, client: Client, n: int) -> dict:
    """`updateClient` renaming the client to Nora<n>, expecting version 1."""
    variables = {"input": {"id": str(client.id), "expectedVersion": 1, "firstName": f"Nora{n}"}}
    return (await post_graphql(http, UPDATE, variables, desk.token))["data"]["updateClient"]


@needs_concurrent_writers
async def test_parallel_updates_with_one_expected_version_one_wins(tmp_path: Path, settings) -> None:
    async with own_database(tmp_path, "clientrace") as database:
        desk, client = await desk_and_client("race")
        async with app_client(settings, database) as http:
            results = await asyncio.gather(*(save(http, desk, client, n) for n in range(6)))
        winners = [r for r in results if not r["errors"]]
        losers = [r for r in results if r["errors"]]
        assert len(winners) == 1, results
        assert all(r["errors"] == [{"field": ["input", "expectedVersion"], "code": "CONFLICT"}] for r in losers)
        row = await Client.get(id=client.id)
        assert row.version == 2
        assert row.first_name == winners[0]["client"]["firstName"]
        assert await AuditEvent.filter(action="client.update", target_id=client.id).count() == 1


@pytest.mark.skipif(BACKEND != "postgres", reason="row locks between separate transactions: PostgreSQL only")
async def test_the_write_itself_is_guarded_by_the_version_read(tmp_path: Path, settings, monkeypatch) -> None:
    """Both saves pass the expectedVersion check before either writes (a barrier holds them there):
    the version-guarded UPDATE still lets only one through."""
    import resolvers.clients as module
    from models.organization import Location

    barrier = asyncio.Barrier(2)

    class HeldLocation:
        @staticmethod
        async def get(**kwargs):
            await barrier.wait()
            return await Location.get(**kwargs)

        filter = Location.filter

    monkeypatch.setattr(module, "Location", HeldLocation)
    async with own_database(tmp_path, "clientrace2") as database:
        desk, client = await desk_and_client("race2")
        async with app_client(settings, database) as http:
            results = await asyncio.wait_for(
                asyncio.gather(save(http, desk, client, 1), save(http, desk, client, 2)), timeout=30
            )
        assert sorted(len(r["errors"]) for r in results) == [0, 1], results
        assert (await Client.get(id=client.id)).version == 2
