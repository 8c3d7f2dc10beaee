"""A real browser on the real server: headless Chromium (the Debian package, driven by Playwright)
opens a registration link served by `tessera serve`, fills the form and sees the username to log in
with; and a client invitation's link, where a parent creates her portal account.

The browser is tests/e2e/conftest.py's: Chromium at `TESSERA_TEST_CHROMIUM`, else `chromium` on PATH;
Playwright never downloads a browser of its own. Without Playwright or a Chromium binary the test is
skipped, naming what is missing (CI installs the package: .ci/run).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from app.settings import Settings
from models.enums import AccessStatus, ProxyRelationship
from models.users import User
from resolvers import access, invitations
from resolvers.context import RequestContext
from tests.app.conftest import SmtpServer
from tests.app.support import ROOT
from tests.e2e.test_uvicorn import served, text
from tests.factories import Factory, make_client
from tests.support import orm

if TYPE_CHECKING:
    from tests.support import TestDatabase

NEW_PASSWORD = "copper-kettle-meadow-41"
PUBLIC_URL = "https://tessera.test"


def mail_context() -> RequestContext:
    """What the resolvers that write a mailed link need: the public URL the link starts with."""
    return RequestContext(settings=Settings(public_url=PUBLIC_URL), request_id="e2e-browser")


@asynccontextmanager
async def link_opened(
    database_url: str, log: Path, smtp: SmtpServer, browser: Any, link: str, locale: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The real server and a browser page that opened the mailed `link` on it (200): yields the
    server's HTTP client and the page; on leaving, the page's console must have reported no
    Content-Security-Policy violation (the hashed inline style, no script).

    PYTHONPATH: the server runs this checkout's code, whichever checkout the venv was installed from.
    A real SMTP server takes the mail: without one, development writes mail, links included, to the
    log on purpose (README "Configuration"), and these tests check the log has no token."""
    async with served(database_url, log, PYTHONPATH=str(ROOT), TESSERA_SMTP_URL=smtp.url) as http:
        page = await browser.new_page(locale=locale)
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        opened = await page.goto(str(http.base_url.join(link.removeprefix(PUBLIC_URL))))
        assert opened is not None and opened.status == 200
        yield http, page
        assert not [m for m in console if "Content Security Policy" in m], console


async def ask(http: httpx.AsyncClient, query: str, token: str | None = None) -> httpx.Response:
    """A GraphQL POST to the real server, with a bearer token when given."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await http.post("/graphql", json={"query": query}, headers=headers)


def link_token(link: str) -> str:
    return link.split("token=", 1)[1]


async def test_a_browser_opens_the_registration_link_and_sets_the_password(
    fresh_database: TestDatabase, tmp_path: Path, smtp: SmtpServer, browser: Any
) -> None:
    # An invited user and their registration link, written straight to the server's database.
    async with orm(fresh_database.url, migrate_first=True):
        org = await Factory().organization("harbour")
        staff = await Factory().user(
            org.organization, username="ines.new", access=AccessStatus.NO_ACCESS, session=False
        )
        await User.filter(id=staff.user.id).update(password_hash=None, access_status=AccessStatus.INVITED)
        link = await access.send_registration(mail_context(), org.organization, await User.get(id=staff.user.id))

    log = tmp_path / "server.log"
    async with link_opened(fresh_database.url, log, smtp, browser, link, "en-US") as (http, page):
        assert await page.get_attribute("html", "lang") == "en"
        # The hashed inline style applies under the CSP (no violation reported).
        assert await page.evaluate("getComputedStyle(document.body).maxWidth") == "512px"
        # Fields found by their labels: the <label for> associations work.
        await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        await page.get_by_label("Repeat the new password", exact=True).fill(NEW_PASSWORD)
        await page.get_by_label("PIN (optional)", exact=True).fill("5290")
        await page.get_by_role("button", name="Save my password").click()
        await page.wait_for_selector("#username")
        assert await page.text_content("#username") == "ines.new"
        assert await page.text_content("#organization-code") == "harbour"
        assert "Your account is ready." in await page.content()
        assert "tss_" not in await page.content()

        login = await ask(
            http,
            'mutation { login(input: {organizationSlug: "harbour", username: "ines.new", '
            f'password: "{NEW_PASSWORD}"}}) {{ token errors {{ code }} }} }}',
        )
        assert login.json()["data"]["login"]["errors"] == [], login.text

    lines = [json.loads(line) for line in text(log).splitlines() if line.startswith("{")]
    pages = [e for e in lines if e.get("logger") == "tessera.access" and e.get("path") == "/register"]
    assert [e["status"] for e in pages] == [200, 200], "the GET and the POST, both logged by path"
    assert link_token(link) not in text(log), "the link's token never reaches the server's log"
    assert NEW_PASSWORD not in text(log)


async def test_a_browser_opens_a_client_invitation_and_a_parent_creates_her_account(
    fresh_database: TestDatabase, tmp_path: Path, smtp: SmtpServer, browser: Any
) -> None:

    # A child with a date of birth, and an invitation with a verification code for the parent.
    async with orm(fresh_database.url, migrate_first=True):
        factory = Factory()
        org = await factory.organization("harbour")
        child = await make_client(org, org.locations[0], "Léo", "Lund", date_of_birth=date(2016, 9, 14))
        wanted = invitations.InviteData(
            child.id, "maya@example.org", ProxyRelationship.PARENT, require_verification_code=True, send=False
        )
        issued = await invitations.issue_invitation(mail_context(), child, wanted, created_by=org.admin.user)
        code = issued.invitation.verification_code

    log = tmp_path / "server.log"
    async with link_opened(fresh_database.url, log, smtp, browser, issued.link, "fr-CA") as (http, page):
        assert await page.get_attribute("html", "lang") == "fr"  # from Accept-Language
        await page.get_by_label("Code de vérification", exact=True).fill(code or "")
        await page.get_by_label("Date de naissance de Léo", exact=True).fill("2016-09-14")
        await page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
        await page.get_by_label("Répétez le nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
        await page.get_by_role("button", name="Accepter l'invitation").click()
        await page.wait_for_selector("#email")
        assert await page.text_content("#email") == "maya@example.org"
        assert await page.text_content("#organization-code") == "harbour"
        assert "tsp_" not in await page.content()

        login = await ask(
            http,
            'mutation { portalLogin(input: {organizationSlug: "harbour", email: "maya@example.org", '
            f'password: "{NEW_PASSWORD}"}}) {{ token errors {{ code }} }} }}',
        )
        portal = login.json()["data"]["portalLogin"]
        assert portal["errors"] == [], login.text
        viewer = await ask(
            http, "{ viewer { portalAccount { links { relationship client { firstName } } } } }", portal["token"]
        )
        links = viewer.json()["data"]["viewer"]["portalAccount"]["links"]
        assert links == [{"relationship": "PARENT", "client": {"firstName": "Léo"}}]

    assert link_token(issued.link) not in text(log), "the link's token never reaches the server's log"
    assert NEW_PASSWORD not in text(log) and (code or "------") not in text(log)
