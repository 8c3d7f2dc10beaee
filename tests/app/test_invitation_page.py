"""The page a client invitation's link opens (app/invitation_page.py, issue 10) over HTTP: it asks
what the invitation needs, creates the account or logs in to the existing one, links the client,
shows how to log in to the portal, and signs nobody in; a dead link shows no form."""

from __future__ import annotations

import re
from datetime import date

import httpx

from app.pages import CSP
from models.enums import ProxyRelationship
from models.portal import ClientPortalLink, PortalAccount, PortalSession
from permissions.catalog import Permission as P
from tests.api.test_portal import INVITE, token_of
from tests.app.test_pages import _hidden
from tests.factories import PASSWORD, Factory, Org, make_client, staff_with
from tests.support import GQL

NEW_PASSWORD = "saffron-window-tide-58"


async def _invitation(gql: GQL, factory: Factory, org: Org, email: str, **extra) -> tuple[str, str]:
    desk = await staff_with(factory, org, [P.CLIENTS_READ, P.CLIENT_PORTAL_MANAGE], org.locations)
    child = await make_client(org, org.locations[0], "Leo", "Lund", date_of_birth=date(2016, 9, 14))
    given = {"clientId": str(child.id), "email": email, "send": False, **extra}  # the link staff hand out
    body = await gql(INVITE, {"i": given}, token=desk.token)
    payload = body["data"]["inviteClientUser"]
    return token_of(payload["link"]), payload["invitation"]["verificationCode"]


async def _post(client: httpx.AsyncClient, page: httpx.Response, **form: str) -> httpx.Response:
    data = {name: _hidden(page.text, name) for name in ("token", "csrf", "lang")}
    data.update(form)
    return await client.post("/invitation", data=data, headers={"origin": "http://tessera.test"})


async def test_a_parent_creates_her_account_from_the_link(client, gql, factory, org_a) -> None:
    token, code = await _invitation(
        gql, factory, org_a, "maya@example.org", relationship="PARENT", requireVerificationCode=True
    )
    page = await client.get(f"/invitation?token={token}")
    assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
    html = page.text
    assert "maya@example.org" in html and "Leo" in html and "Lund" not in html
    for name in ("verificationCode", "dateOfBirth", "password", "confirm"):
        assert f'<label for="{name}">' in html, name
    wrong = await _post(
        client, page, verificationCode=code, dateOfBirth="2016-09-15", password=NEW_PASSWORD, confirm=NEW_PASSWORD
    )
    # One answer for a wrong code or date of birth: the date cannot be confirmed on its own.
    assert wrong.status_code == 400 and "The verification code or the date of birth do not match." in wrong.text
    assert 'id="verificationCode-error"' in wrong.text
    done = await _post(
        client, wrong, verificationCode=code, dateOfBirth="2016-09-14", password=NEW_PASSWORD, confirm=NEW_PASSWORD
    )
    assert done.status_code == 200, done.text
    assert re.search(r'<dd id="organization-code">clinic-a</dd>', done.text)
    assert re.search(r'<dd id="email">maya@example.org</dd>', done.text)
    account = await PortalAccount.get(email_key="maya@example.org")
    link = await ClientPortalLink.get(account_id=account.id)
    assert link.relationship is ProxyRelationship.PARENT
    # The page signs nobody in: the session the new account got is over.
    assert not await PortalSession.filter(account_id=account.id, revoked_at__isnull=True).exists()
    again = await client.get(f"/invitation?token={token}")
    assert again.status_code == 400 and "<form" not in again.text


async def test_an_existing_account_logs_in_on_the_page_in_french(client, gql, factory, org_a) -> None:
    await factory.portal_account(org_a, "maya@example.org")
    token, _ = await _invitation(gql, factory, org_a, "maya@example.org")
    page = await client.get(f"/invitation?token={token}&lang=fr")
    assert '<html lang="fr">' in page.text and "Vous avez déjà un compte" in page.text
    assert 'id="confirm"' not in page.text
    wrong = await _post(client, page, dateOfBirth="2016-09-14", password="not-her-password")
    assert wrong.status_code == 400
    done = await _post(client, wrong, dateOfBirth="2016-09-14", password=PASSWORD)
    assert done.status_code == 200 and "Vous pouvez maintenant gérer les rendez-vous de Leo." in done.text
    assert await ClientPortalLink.all().count() == 1


async def test_a_forged_post_is_refused_and_a_dead_link_shows_no_form(client, gql, factory, org_a) -> None:
    token, _ = await _invitation(gql, factory, org_a, "maya@example.org")
    forged = await client.post(
        "/invitation", data={"token": token, "csrf": "x" * 43, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert forged.status_code == 403 and token not in forged.text
    dead = await client.get("/invitation?token=tsl_nothing")
    assert dead.status_code == 400 and "<form" not in dead.text
    assert not await PortalAccount.exists()


async def test_odd_input_on_the_page_is_a_wrong_answer_not_an_error(client, gql, factory, org_a) -> None:
    token, code = await _invitation(gql, factory, org_a, "maya@example.org", requireVerificationCode=True)
    page = await client.get(f"/invitation?token={token}")
    odd = await _post(
        client, page, verificationCode="١٢٣٤٥٦", dateOfBirth="not a date", password=NEW_PASSWORD, confirm=NEW_PASSWORD
    )
    assert odd.status_code == 400 and "do not match" in odd.text
    done = await _post(
        client,
        odd,
        verificationCode=code,
        dateOfBirth="2016-09-14",
        password=NEW_PASSWORD,
        confirm=NEW_PASSWORD,
        firstName="Ma\x00ya",
    )
    assert done.status_code == 200, done.text
    account = await PortalAccount.get(email_key="maya@example.org")
    assert account.first_name == "Maya" and account.email_verified is False
    assert not await PortalSession.filter(revoked_at__isnull=True).exists()
