"""Two `tessera serve` processes on one PostgreSQL database share each API token's bucket (issue 12):
through Redis when `TESSERA_REDIS_URL` is set, through the locked database row otherwise. Requests
alternate between the servers; together they grant no more than one bucket holds."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from permissions.catalog import Permission as P
from tests.app.support import ROOT
from tests.e2e.test_uvicorn import served
from tests.factories import Factory, make_client
from tests.support import BACKEND, orm, redis_url_or_skip

if TYPE_CHECKING:
    from tests.support import TestDatabase

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="several server processes on one database: PostgreSQL only (SQLite has one writer)"
)
CLIENTS = {"query": "{ clients(first: 50) { edges { node { firstName } } } }"}
BUCKET = {"TESSERA_TOKEN_BUCKET_SIZE": "400", "TESSERA_TOKEN_BUCKET_RESTORE_RATE": "1"}


async def _partner(database_url: str) -> str:
    async with orm(database_url, migrate_first=True):
        factory = Factory()
        org = await factory.organization("shared")
        for n in range(50):
            await make_client(org, org.locations[0], f"C{n:02d}", "Shared")
        return (await factory.integration(org, [P.CLIENTS_READ], org.locations)).token


async def _granted_across_two_servers(database: TestDatabase, tmp_path: Path, **extra: str) -> list[str]:
    token = await _partner(database.url)
    codes: list[str] = []
    async with AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(
                served(database.url, tmp_path / f"server{n}.log", PYTHONPATH=str(ROOT), **BUCKET, **extra)
            )
            for n in (1, 2)
        ]
        for n in range(6):
            response = await servers[n % 2].post("/graphql", json=CLIENTS, headers={"authorization": f"Bearer {token}"})
            assert response.status_code == 200, response.text
            errors = response.json().get("errors") or []
            codes.append(errors[0]["extensions"]["code"] if errors else "OK")
    return codes


async def test_two_servers_share_a_bucket_in_redis(fresh_database: TestDatabase, tmp_path: Path) -> None:
    url = await redis_url_or_skip()
    codes = await _granted_across_two_servers(fresh_database, tmp_path, TESSERA_REDIS_URL=url)
    # 400 points, 151 a request: two in all, not two per server.
    assert codes.count("OK") == 2 and codes.count("RATE_LIMITED") == 4, codes


async def test_two_servers_share_a_bucket_in_the_database(fresh_database: TestDatabase, tmp_path: Path) -> None:
    codes = await _granted_across_two_servers(fresh_database, tmp_path)
    assert codes.count("OK") == 2 and codes.count("RATE_LIMITED") == 4, codes
