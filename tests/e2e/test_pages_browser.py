"""A real browser on the real server: headless Chromium (the Debian package, driven by Playwright)
opens a registration link served by `tessera serve`, fills the form and sees the username to log in
with; and a client invitation's link, where a parent creates her portal account.

The browser is tests/e2e/conftest.py's: Chromium at `TESSERA_TEST_CHROMIUM`, else `chromium` on PATH;
Playwright never downloads a browser of its own. Without Playwright or a Chromium binary the test is
skipped, naming what is missing (CI installs the package: .ci/run).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
        ctx = RequestContext(settings=Settings(public_url="https://tessera.test"), request_id="e2e-browser")
        link = await access.send_registration(ctx, org.organization, await User.get(id=staff.user.id))
    path_and_query = link.removeprefix("https://tessera.test")
    token = path_and_query.split("token=", 1)[1]

    log = tmp_path / "server.log"
    # PYTHONPATH: the server runs this checkout's code, whichever checkout the venv was installed from.
    # A real SMTP server takes the mail: without one, development writes mail, links included, to the
    # log on purpose (README "Configuration"), and this test checks the log has no token.
    async with served(fresh_database.url, log, PYTHONPATH=str(ROOT), TESSERA_SMTP_URL=smtp.url) as http:
        page = await browser.new_page(locale="en-US")
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        opened = await page.goto(str(http.base_url.join(path_and_query)))
        assert opened is not None and opened.status == 200
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
        assert not [m for m in console if "Content Security Policy" in m], console

        login = await http.post(
            "/graphql",
            json={
                "query": 'mutation { login(input: {organizationSlug: "harbour", username: "ines.new", '
                f'password: "{NEW_PASSWORD}"}}) {{ token errors {{ code }} }} }}'
            },
        )
        assert login.json()["data"]["login"]["errors"] == [], login.text

    lines = [json.loads(line) for line in text(log).splitlines() if line.startswith("{")]
    pages = [e for e in lines if e.get("logger") == "tessera.access" and e.get("path") == "/register"]
    assert [e["status"] for e in pages] == [200, 200], "the GET and the POST, both logged by path"
    assert token not in text(log), "the link's token never reaches the server's log"
    assert NEW_PASSWORD not in text(log)


async def test_a_browser_opens_a_client_invitation_and_a_parent_creates_her_account(
    fresh_database: TestDatabase, tmp_path: Path, smtp: SmtpServer, browser: Any
) -> None:

    # A child with a date of birth, and an invitation with a verification code for the parent.
    async with orm(fresh_database.url, migrate_first=True):
        factory = Factory()
        org = await factory.organization("harbour")
        child = await make_client(org, org.locations[0], "Léo", "Lund", date_of_birth=date(2016, 9, 14))
        ctx = RequestContext(settings=Settings(public_url="https://tessera.test"), request_id="e2e-browser")
        wanted = invitations.InviteData(
            child.id, "maya@example.org", ProxyRelationship.PARENT, require_verification_code=True, send=False
        )
        issued = await invitations.issue_invitation(ctx, child, wanted, created_by=org.admin.user)
        code = issued.invitation.verification_code
    path_and_query = issued.link.removeprefix("https://tessera.test")
    token = path_and_query.split("token=", 1)[1]

    log = tmp_path / "server.log"
    async with served(fresh_database.url, log, PYTHONPATH=str(ROOT), TESSERA_SMTP_URL=smtp.url) as http:
        page = await browser.new_page(locale="fr-CA")
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        opened = await page.goto(str(http.base_url.join(path_and_query)))
        assert opened is not None and opened.status == 200
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
        assert not [m for m in console if "Content Security Policy" in m], console

        login = await http.post(
            "/graphql",
            json={
                "query": 'mutation { portalLogin(input: {organizationSlug: "harbour", email: "maya@example.org", '
                f'password: "{NEW_PASSWORD}"}}) {{ token errors {{ code }} }} }}'
            },
        )
        portal = login.json()["data"]["portalLogin"]
        assert portal["errors"] == [], login.text
        viewer = await http.post(
            "/graphql",
            json={"query": "{ viewer { portalAccount { links { relationship client { firstName } } } } }"},
            headers={"authorization": f"Bearer {portal['token']}"},
        )
        links = viewer.json()["data"]["viewer"]["portalAccount"]["links"]
        assert links == [{"relationship": "PARENT", "client": {"firstName": "Léo"}}]

    assert token not in text(log), "the link's token never reaches the server's log"
    assert NEW_PASSWORD not in text(log) and (code or "------") not in text(log)
