"""Authentication races on PostgreSQL, in real, separate transactions (a fresh database, not the
rolled-back test transaction, whose single connection cannot serve parallel requests): a burst of
parallel PIN guesses gets five, a burst of parallel password guesses from one IP gets five.

On SQLite the same races run inside the test transaction in test_auth.py and test_auth_throttle.py
(one connection, but the requests still interleave at every await)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import resolvers.credentials as credentials
from models.sessions import LoginAttempt, Session
from resolvers.credentials import token_hash
from tests.factories import PASSWORD, Factory, Org
from tests.support import BACKEND, app_client, own_database, post_graphql

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="needs parallel requests on separate connections and transactions: PostgreSQL only "
    "(SQLite has one connection; the SQLite versions of these races are in test_auth.py and test_auth_throttle.py)",
)

UNLOCK = "mutation($pin: String!) { unlockWithPin(input: {pin: $pin}) { ok errors { code } } }"
LOGIN = """mutation($p: String!) { login(input: {organizationSlug: "race", username: "admin", password: $p}) {
  token errors { code } } }"""


@dataclasses.dataclass
class Race:
    org: Org
    factory: Factory
    http: httpx.AsyncClient

    async def post(self, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        return await post_graphql(self.http, query, variables, token)


@pytest.fixture
async def race(tmp_path: Path, settings) -> AsyncIterator[Race]:
    async with own_database(tmp_path, "authrace") as database:
        factory = Factory()
        org = await factory.organization("race")
        async with app_client(settings, database, ip="203.0.113.30") as http:
            yield Race(org, factory, http)


@pytest.fixture
def verifies(monkeypatch) -> list[str]:
    calls: list[str] = []
    original = credentials._hasher

    class Counting:
        def hash(self, secret: str) -> str:
            return original.hash(secret)

        def verify(self, stored: str, secret: str) -> bool:
            calls.append("dummy" if stored == credentials._DUMMY_HASH else "real")
            return original.verify(stored, secret)

    monkeypatch.setattr(credentials, "_hasher", Counting())
    return calls


async def test_parallel_pin_guesses_get_five(race: Race, verifies: list[str]) -> None:
    token, _ = await race.factory.session(race.org.admin.user, idle_for=timedelta(minutes=31))
    bodies = await asyncio.gather(*(race.post(UNLOCK, {"pin": f"{n:04d}"}, token) for n in range(3000, 3020)))
    assert verifies.count("real") <= 5, verifies
    assert not any(((b.get("data") or {}).get("unlockWithPin") or {}).get("ok") for b in bodies), bodies
    assert all("errors" not in b or b["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED" for b in bodies), bodies
    session = await Session.get(token_hash=token_hash(token))
    assert session.revoked_reason == "PIN_FAILURES"


async def test_parallel_password_guesses_get_five(race: Race, verifies: list[str]) -> None:
    bodies = await asyncio.gather(*(race.post(LOGIN, {"p": f"wrong-guess-{n:04d}"}) for n in range(15)))
    codes = sorted(b["data"]["login"]["errors"][0]["code"] for b in bodies)
    assert codes == ["INVALID_CREDENTIALS"] * 5 + ["LOGIN_THROTTLED"] * 10, codes
    assert len(verifies) == 5
    assert await LoginAttempt.all().count() == 5
    refused = await race.post(LOGIN, {"p": PASSWORD})
    assert refused["data"]["login"]["errors"] == [{"code": "LOGIN_THROTTLED"}]
