"""The login throttle in Redis (resolvers/login_throttle.py): counted before it is judged, atomically
for every worker, and giving the turn back when the password was right; a Redis that does not answer
falls back to the database counters. Skipped, saying so, without a Redis (required in CI)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from app.settings import Settings
from models.sessions import LoginAttempt
from resolvers import login_throttle
from resolvers.redis_client import redis_client
from tests.factories import PASSWORD, Factory, Org
from tests.support import GQL, redis_url_or_skip

LOGIN = """mutation($p: String!) { login(input: {organizationSlug: "clinic-a", username: "desk", password: $p}) {
  token errors { code } } }"""
PORTAL = """mutation($p: String!) { portalLogin(input: {organizationSlug: "clinic-a", email: "maya@example.org",
  password: $p}) { token errors { code } } }"""


def codes(body: dict) -> list[str]:
    payload = next(iter(body["data"].values()))
    return [e["code"] for e in payload["errors"]]


class TestInRedis:
    @pytest.fixture
    async def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, redis_url=await redis_url_or_skip())

    async def test_a_burst_of_wrong_passwords_gets_five_and_then_even_the_right_one_is_throttled(
        self, gql: GQL, factory: Factory, org_a: Org
    ) -> None:
        await factory.user(org_a.organization, username="desk")
        answers = await asyncio.gather(*(gql(LOGIN, {"p": f"wrong-guess-{n:02d}"}) for n in range(9)))
        judged = [a for a in answers if codes(a) == ["INVALID_CREDENTIALS"]]
        assert len(judged) == 5, [codes(a) for a in answers]
        assert codes(await gql(LOGIN, {"p": PASSWORD})) == ["LOGIN_THROTTLED"]
        # The failures are in the database too: the history, and what User.loginLocked reads.
        assert await LoginAttempt.filter(username_key="desk").count() == 5

    async def test_a_right_password_gives_its_turn_back(self, gql: GQL, factory: Factory, org_a: Org) -> None:
        await factory.user(org_a.organization, username="desk")
        for _ in range(4):
            assert codes(await gql(LOGIN, {"p": "not-the-password"})) == ["INVALID_CREDENTIALS"]
        for _ in range(3):  # right answers are not failures: they never fill the count
            assert codes(await gql(LOGIN, {"p": PASSWORD})) == []
        assert codes(await gql(LOGIN, {"p": "not-the-password"})) == ["INVALID_CREDENTIALS"]
        assert codes(await gql(LOGIN, {"p": PASSWORD})) == ["LOGIN_THROTTLED"]

    async def test_a_password_an_admin_sets_lifts_the_lock_in_redis_too(
        self, gql: GQL, factory: Factory, org_a: Org
    ) -> None:
        """resolvers/login_throttle.py `forget`: the username's Redis keys go with its rows."""
        desk = await factory.user(org_a.organization, username="desk")
        for n in range(5):
            assert codes(await gql(LOGIN, {"p": f"wrong-guess-{n:02d}"})) == ["INVALID_CREDENTIALS"]
        assert codes(await gql(LOGIN, {"p": PASSWORD})) == ["LOGIN_THROTTLED"]
        body = await gql(
            """mutation($id: ID!) { resetCredentials(input: {id: $id, newPassword: "a-brand-new-passphrase-7",
              requirePasswordReset: false}) { errors { code } } }""",
            {"id": str(desk.user.id)},
            token=org_a.admin.token,
        )
        assert body["data"]["resetCredentials"]["errors"] == []
        # Every key of the username went, its IPs' and the username-wide ones alike.
        prefix = login_throttle._keys(org_a.organization.id, "desk", "")[1].removesuffix(":user")
        assert await redis_client(await redis_url_or_skip()).keys(f"{prefix}:*") == []
        assert codes(await gql(LOGIN, {"p": "a-brand-new-passphrase-7"})) == []

    async def test_a_renamed_users_failures_follow_it_in_redis_too(
        self, gql: GQL, factory: Factory, org_a: Org
    ) -> None:
        """Found in review: Redis counts by a hash of the username, so the failures moved with a
        rename's rows counted for nothing there, and each rename gave four more guesses (nineteen
        across IPs). `begin` takes the larger of the two counts; the old name's keys go."""
        desk = await factory.user(org_a.organization, username="desk")
        for n in range(4):
            assert codes(await gql(LOGIN, {"p": f"wrong-guess-{n:02d}"})) == ["INVALID_CREDENTIALS"]
        rename = """mutation($id: ID!) { updateUser(input: {id: $id, username: "front.desk"}) { errors { code } } }"""
        body = await gql(rename, {"id": str(desk.user.id)}, token=org_a.admin.token)
        assert body["data"]["updateUser"]["errors"] == []
        old = login_throttle._keys(org_a.organization.id, "desk", "")[1].removesuffix(":user")
        assert await redis_client(await redis_url_or_skip()).keys(f"{old}:*") == []
        renamed = LOGIN.replace('username: "desk"', 'username: "front.desk"')
        assert codes(await gql(renamed, {"p": "wrong-guess-05"})) == ["INVALID_CREDENTIALS"]  # the fifth
        assert codes(await gql(renamed, {"p": PASSWORD})) == ["LOGIN_THROTTLED"]

    async def test_portal_logins_take_their_turns_there_too(self, gql: GQL, factory: Factory, org_a: Org) -> None:
        await factory.portal_account(org_a, "maya@example.org")
        answers = await asyncio.gather(*(gql(PORTAL, {"p": f"wrong-guess-{n:02d}"}) for n in range(8)))
        assert sum(codes(a) == ["INVALID_CREDENTIALS"] for a in answers) == 5
        assert codes(await gql(PORTAL, {"p": PASSWORD})) == ["LOGIN_THROTTLED"]


class TestRedisDown:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")

    async def test_logins_fall_back_to_the_database_counters(self, gql: GQL, factory: Factory, org_a: Org) -> None:
        await factory.user(org_a.organization, username="desk")
        assert codes(await gql(LOGIN, {"p": PASSWORD})) == []
        for _ in range(5):
            assert codes(await gql(LOGIN, {"p": "not-the-password"})) == ["INVALID_CREDENTIALS"]
        assert codes(await gql(LOGIN, {"p": PASSWORD})) == ["LOGIN_THROTTLED"]


class TestDatabaseLockSurvivesRedis:
    async def test_a_lock_the_database_holds_still_holds_with_redis_back(
        self, client, factory: Factory, org_a: Org, settings: Settings
    ) -> None:
        import httpx

        from app.main import create_app

        await factory.user(org_a.organization, username="desk")
        url = await redis_url_or_skip()

        async def login(app_settings: Settings, password: str) -> list[str]:
            app = create_app(app_settings, manage_database=False, run_jobs=False)
            transport = httpx.ASGITransport(app=app, client=("203.0.113.77", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
                return codes((await http.post("/graphql", json={"query": LOGIN, "variables": {"p": password}})).json())

        away = dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")
        for _ in range(5):  # counted in the database while Redis does not answer
            assert await login(away, "not-the-password") == ["INVALID_CREDENTIALS"]
        back = dataclasses.replace(settings, redis_url=url)
        assert await login(back, PASSWORD) == ["LOGIN_THROTTLED"]
        assert await login(back, "another-guess") == ["LOGIN_THROTTLED"]


class TestTurns:
    @pytest.fixture
    async def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, redis_url=await redis_url_or_skip())

    async def test_attempts_in_flight_bound_a_burst_but_never_start_a_lock(
        self, settings: Settings, org_a: Org
    ) -> None:
        import uuid

        from resolvers import login_throttle
        from resolvers.context import RequestContext

        ctx = RequestContext(settings=settings, request_id="turns")
        org, key, ip = org_a.organization.id, f"turns-{uuid.uuid4().hex}", "198.51.100.7"
        for _ in range(3):
            await login_throttle.failed(ctx, org, await login_throttle.begin(ctx, org, key, ip), key, ip)
        right = await login_throttle.begin(ctx, org, key, ip)  # a right password, still being checked
        wrong = await login_throttle.begin(ctx, org, key, ip)
        assert not right.state.throttled and not wrong.state.throttled
        assert (await login_throttle.begin(ctx, org, key, ip)).state.throttled  # 5 attempts: the burst stops
        await login_throttle.failed(ctx, org, wrong, key, ip)  # the 4th failure: no lock yet
        await login_throttle.succeeded(ctx, right)
        fifth = await login_throttle.begin(ctx, org, key, ip)
        assert not fifth.state.throttled
        await login_throttle.failed(ctx, org, fifth, key, ip)  # the 5th failure locks
        assert (await login_throttle.begin(ctx, org, key, ip)).state.throttled
