"""The pages staff mail links open (app/pages.py, issue 10): /register and /reset-password over HTTP.

The form posts through the same code path as the `acceptStaffInvitation` mutation; these tests check
what the page adds: its HTML (labels, language, errors tied to their fields), its headers (CSP,
no referrer, no cache), the CSRF double-submit token, and that the link's token never reaches a log.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from app.logging import JsonFormatter
from models.enums import AccessStatus
from models.outbox import OutboxMessage
from models.sessions import Session
from models.users import StaffToken, User

ENABLE = """mutation($ids: [ID!]!) { enableAccess(input: {userIds: $ids, registrationEmail: SEND_NOW}) {
  errors { code } } }"""
RESET = "mutation($id: ID!) { resetCredentials(input: {id: $id}) { errors { code } } }"
LOGIN = """mutation($u: String!, $p: String!) {
  login(input: {organizationSlug: "clinic-a", username: $u, password: $p}) { token errors { code } } }"""
NEW_PASSWORD = "amber-lantern-thistle-73"
INVALID = "This link is not valid any more: ask your administrator for a new one."
USED = "This link was already used: log in with the password it set, or ask your administrator for a new one."


async def _token(email: str, template: str) -> str:
    mail = await OutboxMessage.filter(to_address=email, template=template).order_by("-created_at").first()
    assert mail is not None
    found = re.search(r"token=(tsl_[A-Za-z0-9_-]+)", mail.text_body)
    assert found, mail.text_body
    return found.group(1)


async def _invite(gql, factory, org, username: str = "new.hire") -> tuple[User, str]:
    staff = await factory.user(org.organization, username=username, access=AccessStatus.NO_ACCESS, session=False)
    await User.filter(id=staff.user.id).update(password_hash=None)
    body = await gql(ENABLE, {"ids": [str(staff.user.id)]}, token=org.admin.token)
    assert body["data"]["enableAccess"]["errors"] == []
    return staff.user, await _token(staff.user.email, "staff_registration")


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert found, html
    return found.group(1)


async def _submit(
    client: httpx.AsyncClient, path: str, page: httpx.Response, password: str, pin: str = "", **form: str
) -> httpx.Response:
    """Fill and post the form `page` shows, as a browser would (the cookie the page set travels back)."""
    data = {
        "token": _hidden(page.text, "token"),
        "csrf": _hidden(page.text, "csrf"),
        "lang": _hidden(page.text, "lang"),
        "password": password,
        "confirm": password,
        "pin": pin,
    }
    data.update(form)
    return await client.post(path, data=data, headers={"origin": "http://tessera.test"})


async def test_the_registration_link_sets_the_password_and_shows_how_to_log_in(client, gql, factory, org_a):
    user, token = await _invite(gql, factory, org_a)
    page = await client.get(f"/register?token={token}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="en">' in html and "Set up your Tessera account" in html
    assert _hidden(html, "token") == token
    for name in ("password", "confirm", "pin"):
        assert f'<label for="{name}">' in html and f'id="{name}" name="{name}"' in html
    assert 'aria-describedby="password-hint"' in html
    assert "<script" not in html
    assert 'action="/register"' in html, "the token travels in the body, not in the action URL"

    done = await _submit(client, "/register", page, NEW_PASSWORD, pin="3817")
    assert done.status_code == 200, done.text
    assert "Your account is ready." in done.text
    assert '<dd id="username">new.hire</dd>' in done.text
    assert org_a.organization.name in done.text and '<dd id="organization-code">clinic-a</dd>' in done.text
    assert "tss_" not in done.text and token not in done.text, "no session token, no link token in the page"

    stored = await User.get(id=user.id)
    assert stored.access_status is AccessStatus.ENABLED and stored.pin_hash
    # The page signs nobody in: the session the accepted link opened is already ended.
    assert not await Session.filter(user_id=user.id, revoked_at__isnull=True).exists()
    login = await gql(LOGIN, {"u": "new.hire", "p": NEW_PASSWORD})
    assert login["data"]["login"]["errors"] == []
    # Single use: the same link now says it was used (the password it set stands) and shows no form.
    again = await client.get(f"/register?token={token}")
    assert again.status_code == 400 and USED in again.text and "<form" not in again.text


async def test_the_pages_send_a_strict_csp_no_referrer_and_no_cache(client, gql, factory, org_a):
    _, token = await _invite(gql, factory, org_a)
    for path in (f"/register?token={token}", "/register?token=tsl_unknown", "/reset-password"):
        page = await client.get(path)
        csp = page.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["default-src"] == "'none'"
        assert directives["form-action"] == "'self'" and directives["frame-ancestors"] == "'none'"
        assert "script-src" not in directives and "unsafe-inline" not in csp and "http" not in csp
        # The one inline style is allowed by its hash, and it is exactly the style in the page.
        style = re.search(r"<style>(.*?)</style>", page.text, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert directives["style-src"] == f"'sha256-{digest}'"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-frame-options"] == "DENY"


async def test_a_bad_or_missing_token_says_so_and_never_500s(client):
    for path in ("/register", "/register?token=", "/register?token=tsl_nope", "/reset-password?token=x"):
        page = await client.get(path)
        assert page.status_code == 400, path
        assert INVALID in page.text and 'role="alert"' in page.text and "<form" not in page.text
    dead = await client.get("/register?token=tsl_nope")
    assert "set-cookie" not in dead.headers, "a dead link gets no form and no cookie"


async def test_an_expired_link_says_so(client, gql, factory, org_a):
    user, token = await _invite(gql, factory, org_a)
    await StaffToken.filter(user_id=user.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    page = await client.get(f"/register?token={token}")
    assert page.status_code == 400 and INVALID in page.text and "<form" not in page.text


async def test_a_used_token_posted_again_shows_the_resolvers_message(client, gql, factory, org_a):
    """A form sent twice (a double click, a second tab): the second post says the link was used, so
    the person logs in with the password the first one set, rather than believing it failed."""
    _, token = await _invite(gql, factory, org_a)
    page = await client.get(f"/register?token={token}")
    assert (await _submit(client, "/register", page, NEW_PASSWORD)).status_code == 200
    again = await _submit(client, "/register", page, NEW_PASSWORD)
    assert again.status_code == 400 and USED in again.text and INVALID not in again.text and "<form" not in again.text
    french = await client.get(f"/register?token={token}&lang=fr")
    assert "Ce lien a déjà servi" in french.text


async def test_a_weak_password_or_pin_is_refused_next_to_its_field(client, gql, factory, org_a):
    _, token = await _invite(gql, factory, org_a)
    page = await client.get(f"/register?token={token}")
    weak = await _submit(client, "/register", page, "short", pin="1234")
    assert weak.status_code == 400
    html = weak.text
    assert '<p class="error" id="password-error">Use at least 12 characters.</p>' in html
    assert 'aria-describedby="password-hint password-error" aria-invalid="true"' in html
    assert "A PIN may not be a run of digits" in html and 'aria-describedby="pin-hint pin-error"' in html
    assert 'role="alert"' in html
    # The form is shown again with the same token: the link was not used up.
    assert _hidden(html, "token") == token
    assert await StaffToken.filter(used_at__isnull=True, revoked_at__isnull=True).exists()
    fixed = await _submit(client, "/register", weak, NEW_PASSWORD)
    assert fixed.status_code == 200 and "Your account is ready." in fixed.text


async def test_two_different_passwords_never_reach_the_resolver(client, gql, factory, org_a):
    _, token = await _invite(gql, factory, org_a)
    page = await client.get(f"/register?token={token}")
    differ = await _submit(client, "/register", page, NEW_PASSWORD, confirm=NEW_PASSWORD + "x")
    assert differ.status_code == 400 and "The two passwords differ." in differ.text
    assert 'id="confirm-error"' in differ.text


async def test_french_by_query_or_accept_language(client, gql, factory, org_a):
    _, token = await _invite(gql, factory, org_a)
    by_query = await client.get(f"/register?token={token}&lang=fr")
    assert '<html lang="fr">' in by_query.text and "Activez votre compte Tessera" in by_query.text
    assert 'action="/register?lang=fr"' in by_query.text
    by_header = await client.get(f"/register?token={token}", headers={"accept-language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in by_header.text and "Nouveau mot de passe" in by_header.text
    for header in ("de, en;q=0.8, fr;q=0.5", "fr;q=0, en", "es"):
        english = await client.get(f"/register?token={token}", headers={"accept-language": header})
        assert '<html lang="en">' in english.text, header
    weak = await _submit(client, "/register?lang=fr", by_query, "password")
    assert weak.status_code == 400 and '<html lang="fr">' in weak.text
    assert "Utilisez au moins 12 caractères." in weak.text
    dead = await client.get("/register?token=tsl_nope", headers={"accept-language": "fr"})
    assert "Ce lien n&#39;est plus valide" in dead.text
    done = await _submit(client, "/register?lang=fr", by_query, NEW_PASSWORD)
    assert done.status_code == 200 and "Votre compte est prêt." in done.text and "Nom d&#39;utilisateur" in done.text


async def test_csrf_a_post_without_the_pages_cookie_or_from_another_origin_is_refused(client, gql, factory, org_a):
    _, token = await _invite(gql, factory, org_a)
    page = await client.get(f"/register?token={token}")
    cookie_name = "tessera_csrf"
    assert f"{cookie_name}=" in page.headers["set-cookie"]
    assert "httponly" in page.headers["set-cookie"].lower() and "samesite=strict" in page.headers["set-cookie"].lower()
    form = {
        "token": token,
        "csrf": _hidden(page.text, "csrf"),
        "lang": "en",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "pin": "",
    }
    # Another site's form: its Origin is not ours.
    foreign = await client.post("/register", data=form, headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403 and "open the link from your email again" in foreign.text
    # A forged post leaves no working form for the forger's account: no form, no token.
    assert "<form" not in foreign.text and token not in foreign.text
    # No cookie (a cross-site POST does not carry a SameSite=Strict cookie), or another value.
    client.cookies.clear()
    assert (await client.post("/register", data=form)).status_code == 403
    client.cookies.set(cookie_name, "something-else")
    assert (await client.post("/register", data=form)).status_code == 403
    assert await StaffToken.filter(used_at__isnull=True, revoked_at__isnull=True).exists(), "the link is intact"
    # `Origin: null` (what a no-referrer page's own form sends) with the matching cookie goes through.
    client.cookies.set(cookie_name, form["csrf"])
    ok = await client.post("/register", data=form, headers={"origin": "null"})
    assert ok.status_code == 200, ok.text


async def test_the_password_reset_link_sets_a_new_password_and_ends_other_sessions(client, gql, factory, org_a):
    staff = await factory.user(org_a.organization, username="reset.me", locations=org_a.locations)
    body = await gql(RESET, {"id": str(staff.user.id)}, token=org_a.admin.token)
    assert body["data"]["resetCredentials"]["errors"] == []
    token = await _token(staff.user.email, "password_reset")
    page = await client.get(f"/reset-password?token={token}")
    assert page.status_code == 200 and "Choose a new Tessera password" in page.text
    assert 'action="/reset-password"' in page.text
    done = await _submit(client, "/reset-password", page, NEW_PASSWORD)
    assert done.status_code == 200 and "Your new password is set." in done.text
    assert '<dd id="username">reset.me</dd>' in done.text and "tss_" not in done.text
    assert not await Session.filter(user_id=staff.user.id, id=staff.session.id, revoked_at__isnull=True).exists()
    login = await gql(LOGIN, {"u": "reset.me", "p": NEW_PASSWORD})
    assert login["data"]["login"]["errors"] == []


async def test_the_links_token_is_never_logged(client, gql, factory, org_a, caplog: pytest.LogCaptureFixture):
    _, token = await _invite(gql, factory, org_a)
    formatter = JsonFormatter()
    with caplog.at_level(logging.DEBUG):
        page = await client.get(f"/register?token={token}")
        await _submit(client, "/register", page, "short")
        await _submit(client, "/register", page, NEW_PASSWORD)
        await client.get(f"/register?token={token}")
        await client.get(f"/reset-password?token={token}&lang=fr")
    access = [r for r in caplog.records if r.name == "tessera.access"]
    assert [r.path for r in access] == ["/register"] * 4 + ["/reset-password"]  # type: ignore[attr-defined]
    # Everything the server side logged (at DEBUG); httpx's own lines are this test's client. Tortoise's
    # SQL records feed the statement counter only and never reach any output (tests/app/test_metrics.py).
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore", "tortoise.db_client"))]
    everything = "\n".join(formatter.format(r) for r in server)
    assert token not in everything and token[4:] not in everything
    assert NEW_PASSWORD not in everything


async def test_a_post_that_is_not_the_pages_form_is_refused_not_a_500(client, gql, factory, org_a):
    _, token = await _invite(gql, factory, org_a)
    page = await client.get(f"/register?token={token}")
    csrf = _hidden(page.text, "csrf")
    bodies = [
        {"json": {"token": token, "csrf": csrf, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}},
        {"files": {"token": (None, token), "csrf": (None, csrf)}},
        {"content": b"\xff\xfe=\x00", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        {"content": b"&&==&", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        {"data": {"token": token, "csrf": "\u00e9t\u00e9", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}},
        {},
    ]
    for body in bodies:
        refused = await client.post("/register", **body)
        assert refused.status_code == 403, body
        assert "content-security-policy" in refused.headers
    assert (await client.put("/register", data={})).status_code == 405
    assert await StaffToken.filter(used_at__isnull=True, revoked_at__isnull=True).exists(), "the link is intact"
