"""Onvio's registration email, end to end: an administrator enables access over GraphQL, the job
delivers the mail to a real SMTP server that refuses the first attempt, and the link taken from
the captured mail sets the password and opens a session; the new password then logs in."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

from app.mail import deliver_outbox
from models.enums import AccessStatus, OutboxStatus
from models.outbox import OutboxMessage
from models.users import User
from tests.app.conftest import SmtpServer

ENABLE = """mutation($ids: [ID!]!) { enableAccess(input: {userIds: $ids, registrationEmail: SEND_NOW}) {
  users { accessStatus } errors { code } } }"""
ACCEPT = """mutation($t: String!, $p: String!) { acceptStaffInvitation(input: {token: $t, password: $p}) {
  token user { username accessStatus } errors { code } } }"""
LOGIN = """mutation($u: String!, $p: String!) {
  login(input: {organizationSlug: "clinic-a", username: $u, password: $p}) { token errors { code } } }"""
NEW_PASSWORD = "quiet-meadow-compass-58"


async def test_the_link_in_the_delivered_mail_opens_the_account(gql, factory, org_a, settings, smtp: SmtpServer):
    staff = await factory.user(org_a.organization, username="newhire", access=AccessStatus.NO_ACCESS, session=False)
    await User.filter(id=staff.user.id).update(password_hash=None)

    enabled = await gql(ENABLE, {"ids": [str(staff.user.id)]}, token=org_a.admin.token)
    assert enabled["data"]["enableAccess"] == {"users": [{"accessStatus": "INVITED"}], "errors": []}

    mail_settings = dataclasses.replace(settings, smtp_url=smtp.url)
    smtp.handler.refusals.append("451 4.3.0 try again later")
    assert await deliver_outbox(mail_settings) == 0
    assert smtp.handler.envelopes == []
    # The retry is due after its backoff: move it to now rather than wait.
    await OutboxMessage.filter(to_address=staff.user.email).update(next_attempt_at=datetime.now(UTC))
    assert await deliver_outbox(mail_settings) == 1
    row = await OutboxMessage.get(to_address=staff.user.email)
    assert row.status is OutboxStatus.SENT and row.attempts == 2

    [email] = smtp.handler.messages()
    assert email["To"] == staff.user.email
    text = email.get_body(("plain",)).get_content()
    link = re.search(r"https://tessera\.test/register\?token=(\S+)", text)
    assert link, text
    html = email.get_body(("html",)).get_content()
    assert link.group(0) in html
    # The mailbox has the token; the outbox kept only what support needs (issue 7).
    assert link.group(1).startswith("tsl_")
    assert link.group(1) not in row.text_body + row.html_body and "tsl_" not in row.text_body + row.html_body
    assert row.subject == email["Subject"] and "https://tessera.test/register?token=" in row.text_body

    accepted = await gql(ACCEPT, {"t": link.group(1), "p": NEW_PASSWORD})
    payload = accepted["data"]["acceptStaffInvitation"]
    assert payload["errors"] == [] and payload["token"].startswith("tss_")
    assert payload["user"] == {"username": "newhire", "accessStatus": "ENABLED"}

    again = await gql(ACCEPT, {"t": link.group(1), "p": NEW_PASSWORD})
    assert [e["code"] for e in again["data"]["acceptStaffInvitation"]["errors"]] == ["INVITATION_INVALID"]
    login = await gql(LOGIN, {"u": "newhire", "p": NEW_PASSWORD})
    assert login["data"]["login"]["errors"] == [] and login["data"]["login"]["token"]


async def test_the_registration_mail_says_the_organization_and_username_to_log_in_with(
    gql, factory, org_a, settings, smtp: SmtpServer
):
    """The link sets a password; logging in later also needs the organization and the username, so
    the mail says both, in the recipient's language."""
    english = await factory.user(org_a.organization, username="ana.new", access=AccessStatus.NO_ACCESS, session=False)
    french = await factory.user(
        org_a.organization, username="luc.nouveau", access=AccessStatus.NO_ACCESS, session=False, language="fr"
    )
    await User.filter(id__in=[english.user.id, french.user.id]).update(password_hash=None)
    enabled = await gql(ENABLE, {"ids": [str(english.user.id), str(french.user.id)]}, token=org_a.admin.token)
    assert enabled["data"]["enableAccess"]["errors"] == []

    assert await deliver_outbox(dataclasses.replace(settings, smtp_url=smtp.url)) == 2
    mails = {m["To"]: m for m in smtp.handler.messages()}
    expected = [
        (english, ("Organization: clinic-a", "Username: ana.new")),
        (french, ("Organisation : clinic-a", "Nom d'utilisateur : luc.nouveau")),
    ]
    for staff, labels in expected:
        email = mails[staff.user.email]
        text = email.get_body(("plain",)).get_content()
        html = email.get_body(("html",)).get_content()
        for label in labels:
            assert label in text, text
        assert "clinic-a" in html and staff.user.username in html
