"""SQLite with more than one process (issue 13, item 3): `tessera serve --workers 2` on SQLite is
refused with a clear message; two servers on one SQLite file queue their writes (WAL and a busy
timeout), so concurrent creations are all kept; and a write lock held past the timeout answers
SERVICE_UNAVAILABLE with `retryAfter`, never a 500."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.app.support import ROOT, tessera
from tests.e2e.test_uvicorn import served
from tests.factories import Factory
from tests.support import BACKEND, orm

if TYPE_CHECKING:
    from tests.support import TestDatabase

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's one-writer rule (PostgreSQL runs the rest)")
CREATE = """mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } errors { code } } }"""


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _admin(database_url: str) -> tuple[str, str]:
    async with orm(database_url, migrate_first=True):
        org = await Factory().organization("files")
        return org.admin.token, str(org.locations[0].id)


async def test_several_workers_on_sqlite_are_refused_with_a_reason(fresh_database: TestDatabase) -> None:
    result = await tessera("serve", "--workers", "2", "--port", "1", database_url=fresh_database.url, seconds=30)
    assert result.returncode == 2 and "SQLite has one writer" in result.stderr and "PostgreSQL" in result.stderr


async def test_two_servers_on_one_file_keep_every_write(fresh_database: TestDatabase, tmp_path: Path) -> None:
    token, location = await _admin(fresh_database.url)
    async with AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(served(fresh_database.url, tmp_path / f"s{n}.log", PYTHONPATH=str(ROOT)))
            for n in (1, 2)
        ]

        async def create(n: int) -> dict:
            given = {"firstName": f"C{n}", "lastName": "Twin", "locationId": location, "smsConsent": False}
            response = await servers[n % 2].post(
                "/graphql", json={"query": CREATE, "variables": {"i": given}}, headers=_bearer(token)
            )
            return response.json()

        bodies = await asyncio.gather(*(create(n) for n in range(20)))
    assert all(b.get("errors") is None and b["data"]["createClient"]["errors"] == [] for b in bodies), bodies
    path = fresh_database.url.removeprefix("sqlite://")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM clients WHERE last_name = 'Twin'").fetchone()[0] == 20


async def test_a_lock_held_past_the_timeout_answers_service_unavailable(
    fresh_database: TestDatabase, tmp_path: Path
) -> None:
    token, location = await _admin(fresh_database.url)
    path = fresh_database.url.removeprefix("sqlite://")
    url = fresh_database.url + "?busy_timeout=300"
    async with served(url, tmp_path / "s.log", PYTHONPATH=str(ROOT)) as http:
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
            given = {"firstName": "Held", "lastName": "Up", "locationId": location, "smsConsent": False}
            # What is checked is the answer, not how soon: on a loaded machine the server's first
            # request (and its jobs loop, waiting on the same lock) once took past httpx's 10 s.
            response = await http.post(
                "/graphql", json={"query": CREATE, "variables": {"i": given}}, headers=_bearer(token), timeout=60
            )
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    body = response.json()
    assert response.status_code == 200, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE" and error["extensions"]["retryAfter"] >= 1, body
