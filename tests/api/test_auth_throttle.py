"""Login throttling (docs/architecture.md "Authentication"): 5 failures per (organization, username, IP), 20 per
(organization,
username) across IPs, unknown usernames alike, LOGIN_THROTTLED even with the right password, and
the lock lifting after TESSERA_LOGIN_THROTTLE_SECONDS (time is moved by editing the attempt rows)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from models.audit import AuditEvent
from models.sessions import LoginAttempt
from tests.factories import PASSWORD
from tests.support import GQL, mailed_token

LOGIN = """mutation($slug: String!, $u: String!, $p: String!) {
  login(input: {organizationSlug: $slug, username: $u, password: $p}) { token errors { code message } }
}"""
WRONG = "not-the-password-at-all"


@pytest.fixture
async def at(app, db) -> AsyncIterator[Callable[[str], GQL]]:
    """`at("198.51.100.1")`: a GQL caller whose requests come from that IP."""
    opened: list[httpx.AsyncClient] = []

    def make(ip: str) -> GQL:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        http = httpx.AsyncClient(transport=transport, base_url="http://tessera.test")
        opened.append(http)
        return GQL(http)

    yield make
    for http in opened:
        await http.aclose()


async def attempt(gql: GQL, username: str = "admin", password: str = WRONG, slug: str = "clinic-a") -> list[str]:
    payload = (await gql(LOGIN, {"slug": slug, "u": username, "p": password}))["data"]["login"]
    return [e["code"] for e in payload["errors"]]


async def age_attempts(seconds: int) -> None:
    """Move every recorded attempt (and the locks it set) `seconds` into the past."""
    for row in await LoginAttempt.all():
        row.created_at -= seconds
        row.ip_locked_until = row.ip_locked_until - seconds if row.ip_locked_until else None
        row.user_locked_until = row.user_locked_until - seconds if row.user_locked_until else None
        await row.save()


async def test_five_failures_throttle_the_ip_triple(at, org_a):
    one, two = at("198.51.100.1"), at("198.51.100.2")
    for _ in range(5):
        assert await attempt(one) == ["INVALID_CREDENTIALS"]
    assert await attempt(one, password=PASSWORD) == ["LOGIN_THROTTLED"]
    assert await attempt(one) == ["LOGIN_THROTTLED"]
    # The triple only: another IP, or another username from this IP, still works.
    assert await attempt(two, password=PASSWORD) == []
    await org_a.factory.user(org_a.organization, username="colleague")
    assert await attempt(one, username="colleague", password=PASSWORD) == []
    assert await AuditEvent.filter(action="auth.login_throttled").count() == 2
    # Throttled attempts write no new failure (they never reach the password check).
    assert await LoginAttempt.all().count() == 5


async def test_four_failures_do_not_throttle(at, org_a):
    one = at("198.51.100.1")
    for _ in range(4):
        await attempt(one)
    assert await attempt(one, password=PASSWORD) == []


async def test_the_ip_throttle_lifts_after_the_setting(at, org_a):
    one = at("198.51.100.1")
    for _ in range(5):
        await attempt(one)
    # Still locked with a minute of the 15 left (a margin no slow machine eats), free a minute after.
    await age_attempts(840)
    assert await attempt(one, password=PASSWORD) == ["LOGIN_THROTTLED"]
    await age_attempts(120)
    assert await attempt(one, password=PASSWORD) == []


async def test_the_throttle_duration_is_a_setting(database, db, org_a):
    settings = Settings(database_url=database.url, login_throttle_seconds=60)
    transport = httpx.ASGITransport(app=create_app(settings, manage_database=False, run_jobs=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        gql = GQL(http)
        for _ in range(5):
            await attempt(gql)
        assert await attempt(gql, password=PASSWORD) == ["LOGIN_THROTTLED"]
        lock = max(a.ip_locked_until or 0 for a in await LoginAttempt.all())
        assert abs(lock - time.time() - 60) < 5
        await age_attempts(61)
        assert await attempt(gql, password=PASSWORD) == []


async def test_twenty_failures_throttle_the_username_everywhere(at, org_a):
    # Four per IP: never the per-IP threshold.
    for n in range(20):
        assert await attempt(at(f"198.51.100.{n // 4 + 1}")) == ["INVALID_CREDENTIALS"]
    assert await attempt(at("192.0.2.77"), password=PASSWORD) == ["LOGIN_THROTTLED"]
    assert await attempt(at("198.51.100.1"), password=PASSWORD) == ["LOGIN_THROTTLED"]
    # Another username of the organization is not affected.
    await org_a.factory.user(org_a.organization, username="colleague")
    assert await attempt(at("192.0.2.77"), username="colleague", password=PASSWORD) == []
    # Nor the same username in another organization.
    await org_a.factory.organization("clinic-b")
    assert await attempt(at("192.0.2.77"), slug="clinic-b", password=PASSWORD) == []
    await age_attempts(901)
    assert await attempt(at("192.0.2.77"), password=PASSWORD) == []


async def test_nineteen_failures_across_ips_do_not_throttle(at, org_a):
    for n in range(19):
        await attempt(at(f"198.51.100.{n // 4 + 1}"))
    assert await attempt(at("192.0.2.77"), password=PASSWORD) == []


async def test_failures_older_than_an_hour_do_not_count(at, org_a):
    for n in range(19):
        await attempt(at(f"198.51.100.{n // 4 + 1}"))
    await age_attempts(3601)
    assert await attempt(at("192.0.2.77")) == ["INVALID_CREDENTIALS"]
    assert await attempt(at("192.0.2.77"), password=PASSWORD) == []


async def test_unknown_usernames_are_throttled_alike(at, org_a):
    one, two = at("198.51.100.1"), at("198.51.100.2")
    for _ in range(5):
        assert await attempt(one, username="ghost") == ["INVALID_CREDENTIALS"]
    assert await attempt(one, username="ghost") == ["LOGIN_THROTTLED"]
    assert await attempt(two, username="ghost") == ["INVALID_CREDENTIALS"]
    for n in range(15):
        await attempt(at(f"192.0.2.{n // 4 + 10}"), username="ghost")
    assert await attempt(at("203.0.113.99"), username="ghost") == ["LOGIN_THROTTLED"]


async def test_username_case_does_not_dodge_the_throttle(at, org_a):
    one = at("198.51.100.1")
    for name in ("admin", "ADMIN", "Admin", " admin", "aDmIn"):
        await attempt(one, username=name)
    assert await attempt(one, username="admin", password=PASSWORD) == ["LOGIN_THROTTLED"]


async def test_throttled_message_does_not_tell_whether_the_user_exists(at, org_a):
    one = at("198.51.100.1")
    for _ in range(5):
        await attempt(one)
        await attempt(one, username="ghost")
    known = (await one(LOGIN, {"slug": "clinic-a", "u": "admin", "p": WRONG}))["data"]["login"]["errors"]
    unknown = (await one(LOGIN, {"slug": "clinic-a", "u": "ghost", "p": WRONG}))["data"]["login"]["errors"]
    assert known == unknown


async def test_forwarded_for_from_an_untrusted_peer_cannot_dodge_the_throttle(at, org_a):
    one = at("198.51.100.1")
    for n in range(5):
        response = await one.http.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"slug": "clinic-a", "u": "admin", "p": WRONG}},
            headers={"x-forwarded-for": f"10.9.9.{n}"},
        )
        assert response.status_code == 200
    assert await attempt(one, password=PASSWORD) == ["LOGIN_THROTTLED"]


async def test_a_burst_of_parallel_guesses_gets_no_more_than_five(at, org_a):
    """Requests racing each other must not all read "4 failures so far" and all get to guess."""
    import asyncio

    one = at("198.51.100.1")
    results = await asyncio.gather(*(attempt(one) for _ in range(12)))
    assert sorted(r[0] for r in results) == ["INVALID_CREDENTIALS"] * 5 + ["LOGIN_THROTTLED"] * 7
    assert await LoginAttempt.all().count() == 5


CHANGE = """mutation($c: String!, $n: String!) {
  changePassword(input: {currentPassword: $c, newPassword: $n}) { ok errors { field code } }
}"""


async def change(gql: GQL, token: str, current: str) -> list[str]:
    payload = (await gql(CHANGE, {"c": current, "n": "a-brand-new-passphrase-77"}, token=token))["data"]
    return [e["code"] for e in payload["changePassword"]["errors"]]


async def test_change_password_is_no_unthrottled_password_oracle(at, org_a):
    """A stolen session cannot guess the password through changePassword faster than through login."""
    one = at("198.51.100.1")
    token = org_a.admin.token
    for _ in range(5):
        assert await change(one, token, WRONG) == ["INVALID_CREDENTIALS"]
    assert await change(one, token, PASSWORD) == ["LOGIN_THROTTLED"]
    # The same counters: login from that IP is throttled too, and another IP is not.
    assert await attempt(one, password=PASSWORD) == ["LOGIN_THROTTLED"]
    assert await change(at("198.51.100.2"), token, PASSWORD) == []


async def test_login_failures_count_for_change_password(at, org_a):
    one = at("198.51.100.1")
    for _ in range(5):
        await attempt(one)
    assert await change(one, org_a.admin.token, PASSWORD) == ["LOGIN_THROTTLED"]
    await age_attempts(901)
    assert await change(one, org_a.admin.token, PASSWORD) == []


RESET = """mutation($id: ID!, $p: String) {
  resetCredentials(input: {id: $id, newPassword: $p, requirePasswordReset: false}) { errors { code } } }"""
ACCEPT_LINK = """mutation($t: String!, $p: String!) {
  acceptStaffInvitation(input: {token: $t, password: $p}) { token errors { code } } }"""
NEW_PASSWORD = "a-brand-new-passphrase-7"


async def _locked_out(at: Callable[[str], GQL], username: str) -> GQL:
    """Twenty wrong guesses at `username` (four from each of five IPs, the first its own desk's): it
    is locked from everywhere. Returns the desk."""
    for n in range(20):
        assert await attempt(at(f"198.51.100.{n // 4 + 1}"), username=username) == ["INVALID_CREDENTIALS"]
    desk = at("198.51.100.1")
    assert await attempt(desk, username=username, password=PASSWORD) == ["LOGIN_THROTTLED"]
    return desk


async def test_a_password_an_admin_sets_lifts_the_lock_at_once(at, org_a):
    """Found trying the product as a clinic would: a user locked out by mistyping calls the admin, who
    sets a new password; it was refused for another fifteen minutes (LOGIN_THROTTLED). Guesses at the
    old password no longer count once someone trusted sets a new one; other users' locks stay."""
    desk_user = await org_a.factory.user(org_a.organization, username="desk")
    await org_a.factory.user(org_a.organization, username="other")
    await _locked_out(at, "other")
    desk = await _locked_out(at, "desk")
    refused = await desk(RESET, {"id": str(desk_user.user.id), "p": "desk"}, token=org_a.admin.token)
    assert [e["code"] for e in refused["data"]["resetCredentials"]["errors"]] == ["PASSWORD_TOO_WEAK"]
    assert await attempt(desk, username="desk", password=PASSWORD) == ["LOGIN_THROTTLED"]  # lifts nothing
    body = await desk(RESET, {"id": str(desk_user.user.id), "p": NEW_PASSWORD}, token=org_a.admin.token)
    assert body["data"]["resetCredentials"]["errors"] == []
    assert await attempt(desk, username="desk", password=NEW_PASSWORD) == []
    assert await attempt(desk, username="other", password=PASSWORD) == ["LOGIN_THROTTLED"]
    # And the new password is guarded like the old: five wrong guesses from one IP lock it again.
    for _ in range(5):
        assert await attempt(desk, username="desk") == ["INVALID_CREDENTIALS"]
    assert await attempt(desk, username="desk", password=NEW_PASSWORD) == ["LOGIN_THROTTLED"]


async def test_a_reset_link_lifts_the_lock_when_opened_not_when_sent(at, org_a):
    desk_user = await org_a.factory.user(org_a.organization, username="desk", email="desk@clinic.example")
    desk = await _locked_out(at, "desk")
    body = await desk(RESET, {"id": str(desk_user.user.id)}, token=org_a.admin.token)  # a reset link
    assert body["data"]["resetCredentials"]["errors"] == []
    assert await attempt(desk, username="desk", password=PASSWORD) == ["LOGIN_THROTTLED"]
    body = await desk(ACCEPT_LINK, {"t": await mailed_token("desk@clinic.example"), "p": NEW_PASSWORD})
    assert body["data"]["acceptStaffInvitation"]["errors"] == []
    assert await attempt(desk, username="desk", password=NEW_PASSWORD) == []


RENAME = """mutation($id: ID!, $u: String!) { updateUser(input: {id: $id, username: $u}) { errors { code } } }"""


async def test_a_renamed_users_lock_follows_it(at, org_a):
    """Found in review: the throttle counts the username typed, so renaming a user (USERS_MANAGE)
    gave fresh guesses at its password after every batch. Its attempts follow it to the new name."""
    desk_user = await org_a.factory.user(org_a.organization, username="desk")
    desk = await _locked_out(at, "desk")
    body = await desk(RENAME, {"id": str(desk_user.user.id), "u": "front.desk"}, token=org_a.admin.token)
    assert body["data"]["updateUser"]["errors"] == []
    assert await attempt(desk, username="front.desk", password=PASSWORD) == ["LOGIN_THROTTLED"]
    assert await attempt(at("192.0.2.9"), username="front.desk", password=PASSWORD) == ["LOGIN_THROTTLED"]
    await age_attempts(901)
    assert await attempt(desk, username="front.desk", password=PASSWORD) == []
