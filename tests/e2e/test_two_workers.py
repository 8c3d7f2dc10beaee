"""Several workers on PostgreSQL, proven (issue 13, item 4): two `tessera serve` processes on one
database (and one Redis) behave as one service. A session made on one works on the other; a
deactivation or a token revocation made through one applies on the other's very next request; the
scheduled jobs run once between them (`SKIP LOCKED`): a queued mail is delivered once. (The login
throttle across both: test_shared_throttle.py; the token bucket: test_shared_bucket.py.)"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from permissions.catalog import Permission as P
from tests.app.conftest import SmtpServer
from tests.app.support import ROOT
from tests.e2e.test_uvicorn import served
from tests.factories import PASSWORD, Factory, queued_mail
from tests.support import BACKEND, orm, redis_url_or_skip

if TYPE_CHECKING:
    from tests.support import TestDatabase

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="several server processes on one database: PostgreSQL only (SQLite has one writer)"
)


async def _ask(http: httpx.AsyncClient, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return response.json()


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


async def test_two_servers_on_one_database_are_one_service(
    fresh_database: TestDatabase, tmp_path: Path, smtp: SmtpServer
) -> None:
    redis = await redis_url_or_skip()
    async with orm(fresh_database.url, migrate_first=True):
        factory = Factory()
        org = await factory.organization("twin")
        desk = await factory.user(org.organization, username="desk", session=False)
        partner = await factory.integration(org, [P.CLIENTS_READ], org.locations)
        await queued_mail(org.organization)
    extra = {"TESSERA_REDIS_URL": redis, "TESSERA_SMTP_URL": smtp.url, "TESSERA_JOBS_INTERVAL_SECONDS": "1"}
    async with AsyncExitStack() as stack:
        one, two = [
            await stack.enter_async_context(
                served(fresh_database.url, tmp_path / f"server{n}.log", PYTHONPATH=str(ROOT), **extra)
            )
            for n in (1, 2)
        ]
        login = (
            'mutation($u: String!, $p: String!) { login(input: {organizationSlug: "twin", username: $u, password: $p}) '
            "{ token } }"
        )
        session = (await _ask(one, login, u="desk", p=PASSWORD))["data"]["login"]["token"]
        admin = (await _ask(two, login, u="admin", p=PASSWORD))["data"]["login"]["token"]
        viewer = "{ viewer { user { username } } }"
        assert (await _ask(two, viewer, session))["data"]["viewer"]["user"]["username"] == "desk"

        off = "mutation($id: ID!) { setUserActive(input: {id: $id, active: false}) { errors { code } } }"
        assert (await _ask(two, off, admin, id=str(desk.user.id)))["data"]["setUserActive"]["errors"] == []
        assert _codes(await _ask(one, viewer, session)) == ["UNAUTHENTICATED"]

        clients = "{ clients { totalCount } }"
        assert _codes(await _ask(two, clients, partner.token)) == []
        revoke = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { ok } }"
        assert (await _ask(one, revoke, admin, id=str(partner.api_token.id)))["data"]["revokeApiToken"]["ok"]
        assert _codes(await _ask(two, clients, partner.token)) == ["UNAUTHENTICATED"]

        # Both servers run the jobs every second; the queued mail goes out once.
        for _ in range(100):  # up to 20 s
            if smtp.handler.envelopes:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # time for a second delivery, were the jobs not run once
    assert len(smtp.handler.envelopes) == 1, smtp.handler.envelopes
