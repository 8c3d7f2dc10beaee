"""Two `tessera serve` processes on one PostgreSQL database and one Redis count login attempts
together (resolvers/login_throttle.py): a burst of wrong passwords spread over both gets five
guesses in all, and then even the right password is throttled on either."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.app.support import ROOT
from tests.e2e.test_uvicorn import served
from tests.factories import PASSWORD, Factory
from tests.support import BACKEND, orm, redis_url_or_skip

if TYPE_CHECKING:
    from tests.support import TestDatabase

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="several server processes on one database: PostgreSQL only (SQLite has one writer)"
)


def _login(password: str) -> dict[str, str]:
    return {
        "query": 'mutation($p: String!) { login(input: {organizationSlug: "twin", username: "desk", password: $p}) '
        "{ token errors { code } } }",
        "variables": {"p": password},
    }


async def test_a_burst_over_two_servers_gets_five_guesses_in_all(fresh_database: TestDatabase, tmp_path: Path) -> None:
    url = await redis_url_or_skip()
    async with orm(fresh_database.url, migrate_first=True):
        org = await Factory().organization("twin")
        await Factory().user(org.organization, username="desk", session=False)
    async with AsyncExitStack() as stack:
        servers = [
            await stack.enter_async_context(
                served(fresh_database.url, tmp_path / f"server{n}.log", PYTHONPATH=str(ROOT), TESSERA_REDIS_URL=url)
            )
            for n in (1, 2)
        ]
        responses = await asyncio.gather(
            *(servers[n % 2].post("/graphql", json=_login(f"wrong-guess-{n:02d}")) for n in range(12))
        )
        codes = [r.json()["data"]["login"]["errors"][0]["code"] for r in responses]
        assert codes.count("INVALID_CREDENTIALS") == 5 and codes.count("LOGIN_THROTTLED") == 7, codes
        for server in servers:
            right = (await server.post("/graphql", json=_login(PASSWORD))).json()["data"]["login"]
            assert [e["code"] for e in right["errors"]] == ["LOGIN_THROTTLED"]
