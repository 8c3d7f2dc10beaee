"""Optimistic concurrency on PostgreSQL: parallel `updateClient` calls carrying one `expectedVersion`
run in real, separate transactions (a fresh database, not the rolled-back test transaction), and
exactly one of them wins; the others get CONFLICT and change nothing."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import httpx
import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from app.db import migrate, tortoise_config
from app.main import create_app
from models.audit import AuditEvent
from models.clients import Client
from permissions.catalog import Permission as P
from tests.conftest import BACKEND, Factory, create_test_database
from tests.resolvers.test_clients_fixtures import make_client, staff_with

UPDATE = """mutation($input: UpdateClientInput!) {
  updateClient(input: $input) { client { version firstName } errors { field code } }
}"""


@pytest.mark.skipif(
    BACKEND != "postgres",
    reason="needs concurrent writers in separate transactions with row locks: PostgreSQL only (SQLite has one writer)",
)
async def test_parallel_updates_with_one_expected_version_one_wins(tmp_path: Path, settings) -> None:
    database = await create_test_database(tmp_path, "clientrace")
    try:
        async with TortoiseContext():
            await migrate(database.url)
            await Tortoise.init(config=tortoise_config(database.url))
            factory = Factory()
            org = await factory.organization("race")
            desk = await staff_with(factory, org, [P.CLIENTS_READ, P.CLIENTS_MANAGE], [org.locations[0]])
            client = await make_client(org, org.locations[0], "Nora", "Vale")
            app = create_app(
                dataclasses.replace(settings, database_url=database.url), manage_database=False, run_jobs=False
            )
            transport = httpx.ASGITransport(app=app, client=("203.0.113.20", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:

                async def save(n: int) -> dict:
                    response = await http.post(
                        "/graphql",
                        json={
                            "query": UPDATE,
                            "variables": {
                                "input": {"id": str(client.id), "expectedVersion": 1, "firstName": f"Nora{n}"}
                            },
                        },
                        headers={"authorization": f"Bearer {desk.token}"},
                    )
                    return response.json()["data"]["updateClient"]

                results = await asyncio.gather(*(save(n) for n in range(6)))
            winners = [r for r in results if not r["errors"]]
            losers = [r for r in results if r["errors"]]
            assert len(winners) == 1, results
            assert all(r["errors"] == [{"field": ["input", "expectedVersion"], "code": "CONFLICT"}] for r in losers)
            row = await Client.get(id=client.id)
            assert row.version == 2
            assert row.first_name == winners[0]["client"]["firstName"]
            assert await AuditEvent.filter(action="client.update", target_id=client.id).count() == 1
    finally:
        if database.drop is not None:
            await database.drop()


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
    database = await create_test_database(tmp_path, "clientrace2")
    try:
        async with TortoiseContext():
            await migrate(database.url)
            await Tortoise.init(config=tortoise_config(database.url))
            factory = Factory()
            org = await factory.organization("race2")
            desk = await staff_with(factory, org, [P.CLIENTS_READ, P.CLIENTS_MANAGE], [org.locations[0]])
            client = await make_client(org, org.locations[0], "Nora", "Vale")
            app = create_app(
                dataclasses.replace(settings, database_url=database.url), manage_database=False, run_jobs=False
            )
            transport = httpx.ASGITransport(app=app, client=("203.0.113.20", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:

                async def save(n: int) -> dict:
                    response = await http.post(
                        "/graphql",
                        json={
                            "query": UPDATE,
                            "variables": {
                                "input": {"id": str(client.id), "expectedVersion": 1, "firstName": f"Nora{n}"}
                            },
                        },
                        headers={"authorization": f"Bearer {desk.token}"},
                    )
                    return response.json()["data"]["updateClient"]

                results = await asyncio.wait_for(asyncio.gather(save(1), save(2)), timeout=30)
            assert sorted(len(r["errors"]) for r in results) == [0, 1], results
            assert (await Client.get(id=client.id)).version == 2
    finally:
        if database.drop is not None:
            await database.drop()
