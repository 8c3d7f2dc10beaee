"""Link tokens do not stay readable in the outbox (issue 7): a delivered mail's stored bodies lose
their token in the write that marks it sent, and a mail still holding a token is purged once the
link has expired and is never delivered afterwards. The mail server is a real one on loopback."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

from app.jobs import run_once
from app.mail import deliver_outbox
from app.settings import Settings
from models.enums import OutboxStatus
from models.outbox import OutboxMessage
from resolvers.context import RequestContext
from resolvers.credentials import LINK_TOKEN_PREFIX, new_token
from resolvers.outbox import enqueue
from tests.app.conftest import SmtpServer

TOKEN = re.compile(re.escape(LINK_TOKEN_PREFIX) + r"[A-Za-z0-9_-]+")


def values(link: str) -> dict[str, str]:
    return {"organization": "Maple Grove", "first_name": "Ana", "expires": "2026-11-26 22:00 UTC", "link": link}


def registration_link() -> tuple[str, str]:
    token = new_token(LINK_TOKEN_PREFIX)
    return f"https://tessera.test/register?token={token}", token


def with_smtp(settings: Settings, url: str | None) -> Settings:
    return dataclasses.replace(settings, smtp_url=url, mail_from="Maple Grove <mail@maplegrove.example>")


def production(settings: Settings) -> Settings:
    """Production without a mail server: mail is held in the outbox."""
    return dataclasses.replace(with_smtp(settings, None), env="production")


async def queue(settings: Settings, link: str, *, age: timedelta = timedelta(0)) -> OutboxMessage:
    """Enqueue a registration mail as a request `age` ago would have (the link's lifetime runs from then)."""
    ctx = RequestContext(settings=settings, request_id="test")
    enqueued_at = datetime.now(UTC) - age
    ctx.now = lambda: enqueued_at  # type: ignore[method-assign]
    return await enqueue(ctx, template="staff_registration", to="ana@clinic.example", values=values(link))


def past_expiry(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.invitation_ttl_seconds) + timedelta(minutes=5)


def bodies(row: OutboxMessage) -> str:
    return row.text_body + row.html_body


async def test_a_delivered_mail_keeps_its_token_only_in_the_mailbox(db, settings, smtp: SmtpServer) -> None:
    link, token = registration_link()
    message = await queue(settings, link)
    assert token in message.text_body and token in message.html_body

    assert await deliver_outbox(with_smtp(settings, smtp.url)) == 1

    [email] = smtp.handler.messages()
    assert link in email.get_body(("plain",)).get_content()
    assert f'<a href="{link}">' in email.get_body(("html",)).get_content()
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.SENT
    assert not TOKEN.search(bodies(row)), bodies(row)
    # What support needs stays: the subject, the greeting, which kind of link it was.
    assert row.subject == message.subject == "Your Maple Grove account"
    assert row.text_body.startswith("Hello Ana") and "https://tessera.test/register?token=" in row.text_body
    assert "link removed after delivery" in row.text_body and "link removed after delivery" in row.html_body


async def test_a_mail_logged_in_development_loses_its_token_too(db, settings) -> None:
    link, token = registration_link()
    message = await queue(settings, link)
    assert await deliver_outbox(with_smtp(settings, None)) == 1
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.SENT and token not in bodies(row) and not TOKEN.search(bodies(row))


async def test_a_held_mail_is_purged_once_its_link_expires_and_never_sent(db, settings, smtp: SmtpServer) -> None:
    link, token = registration_link()
    message = await queue(settings, link, age=past_expiry(settings))
    assert await deliver_outbox(production(settings)) == 0, "held: production has no mail server"

    done = await run_once(production(settings))
    assert done["mail_link_purge"] == 1
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.EXPIRED and row.sent_at is None
    assert token not in bodies(row) and not TOKEN.search(bodies(row))
    assert row.subject == message.subject and row.to_address == message.to_address

    # The mail server is configured later: the purged mail does not go out.
    assert await deliver_outbox(with_smtp(settings, smtp.url)) == 0
    assert smtp.handler.envelopes == []
    assert (await OutboxMessage.get(id=message.id)).status is OutboxStatus.EXPIRED
    assert (await run_once(production(settings)))["mail_link_purge"] == 0, "purged once"


async def test_an_expired_link_is_not_sent_even_before_the_purge_runs(db, settings, smtp: SmtpServer) -> None:
    """Correctness never waits on a job (docs/architecture.md "Data"): delivery itself skips a mail whose link has
    expired."""
    link, _ = registration_link()
    message = await queue(settings, link, age=past_expiry(settings))
    assert await deliver_outbox(with_smtp(settings, smtp.url)) == 0
    assert smtp.handler.envelopes == []
    assert (await OutboxMessage.get(id=message.id)).status is not OutboxStatus.SENT


async def test_a_held_mail_whose_link_is_still_valid_is_kept_and_delivered(db, settings, smtp: SmtpServer) -> None:
    link, token = registration_link()
    message = await queue(settings, link, age=timedelta(seconds=settings.invitation_ttl_seconds) - timedelta(hours=1))
    await run_once(production(settings))
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.PENDING and token in row.text_body and token in row.html_body

    assert await deliver_outbox(with_smtp(settings, smtp.url)) == 1
    [email] = smtp.handler.messages()
    assert token in email.get_body(("plain",)).get_content()
    assert token not in bodies(await OutboxMessage.get(id=message.id))


async def test_a_failed_mail_past_its_link_expiry_is_purged_and_stays_failed(db, settings) -> None:
    link, token = registration_link()
    message = await queue(settings, link, age=past_expiry(settings))
    await OutboxMessage.filter(id=message.id).update(status=OutboxStatus.FAILED, last_error="550 5.1.1 no such user")

    await run_once(production(settings))
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.FAILED and row.last_error == "550 5.1.1 no such user", "why it failed stays"
    assert token not in bodies(row) and not TOKEN.search(bodies(row))


async def test_a_mail_without_a_link_token_is_untouched(db, settings, smtp: SmtpServer) -> None:
    plain_link = "https://tessera.test/register?token=abc123&x=1"
    held = await queue(settings, plain_link, age=past_expiry(settings))
    await run_once(production(settings))
    row = await OutboxMessage.get(id=held.id)
    assert row.status is OutboxStatus.PENDING
    assert (row.text_body, row.html_body) == (held.text_body, held.html_body)

    assert await deliver_outbox(with_smtp(settings, smtp.url)) == 1
    row = await OutboxMessage.get(id=held.id)
    assert row.status is OutboxStatus.SENT
    assert (row.subject, row.text_body, row.html_body) == (held.subject, held.text_body, held.html_body)
