"""Mail delivery against a real SMTP server on loopback: delivered, retried, backed off, given up,
logged in development, held in production, rendered in English and French, and (on PostgreSQL)
sent once by two concurrent workers."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.jobs import run_once
from app.mail import BATCH_SIZE, MAX_ATTEMPTS, _mark_failed, backoff, deliver_outbox
from app.settings import Settings
from models.enums import OutboxStatus
from models.outbox import OutboxMessage
from resolvers.mail_templates import TEMPLATES, render
from resolvers.outbox import enqueue
from tests.app.conftest import SmtpServer, free_port
from tests.support import BACKEND, own_database

LINK = "https://tessera.test/register?token=abc123&x=1"
VALUES = {
    "organization": "Maple Grove",
    "first_name": "Ana",
    "organization_slug": "maple-grove",
    "username": "ana.new",
    "client_name": "Léo Tremblay",
    "expires": "2026-11-26 22:00 UTC",
    "link": LINK,
}


def with_smtp(settings: Settings, url: str | None) -> Settings:
    return dataclasses.replace(settings, smtp_url=url, mail_from="Maple Grove <mail@maplegrove.example>")


async def queue(to: str = "ana@clinic.example", language: str = "en") -> OutboxMessage:
    return await enqueue(None, template="staff_registration", to=to, language=language, values=VALUES)


async def make_due(message: OutboxMessage) -> None:
    """Advance time for one message: its retry is due now."""
    await OutboxMessage.filter(id=message.id).update(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))


def about(moment: datetime, expected: timedelta) -> bool:
    delta = moment - datetime.now(UTC)
    return expected - timedelta(seconds=30) < delta <= expected


async def test_a_message_is_delivered_with_text_and_html(db, settings, smtp: SmtpServer) -> None:
    message = await queue()
    assert await deliver_outbox(with_smtp(settings, smtp.url)) == 1

    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.SENT and row.sent_at is not None and row.attempts == 1
    assert row.last_error is None
    [envelope] = smtp.handler.envelopes
    assert envelope.mail_from == "mail@maplegrove.example"
    assert envelope.rcpt_tos == ["ana@clinic.example"]
    [email] = smtp.handler.messages()
    assert email.get_content_type() == "multipart/alternative"
    assert email["Subject"] == "Your Maple Grove account"
    assert email["From"] == "Maple Grove <mail@maplegrove.example>"
    assert email["Message-ID"] == f"<{message.id}@maplegrove.example>"
    text = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert LINK in text and "Hello Ana" in text
    assert '<a href="https://tessera.test/register?token=abc123&amp;x=1">' in html


async def test_a_refused_first_attempt_is_delivered_on_the_retry(db, settings, smtp: SmtpServer) -> None:
    smtp.handler.refusals.append("451 4.3.0 try again later")
    message = await queue()
    mail = with_smtp(settings, smtp.url)

    assert await deliver_outbox(mail) == 0
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1
    assert "451" in row.last_error and "try again later" in row.last_error
    assert about(row.next_attempt_at, backoff(1))
    assert await deliver_outbox(mail) == 0, "not due yet: the retry waits for its backoff"
    assert smtp.handler.envelopes == []

    await make_due(message)
    assert await deliver_outbox(mail) == 1
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.SENT and row.attempts == 2 and row.last_error is None
    assert len(smtp.handler.envelopes) == 1


async def test_no_server_listening_keeps_the_mail_pending_with_backoff(db, settings) -> None:
    message = await queue()
    closed = f"smtp://tessera:s3cret-pass@127.0.0.1:{free_port()}"
    mail = with_smtp(settings, closed)

    assert await deliver_outbox(mail) == 0
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.PENDING and row.attempts == 1 and row.sent_at is None
    assert about(row.next_attempt_at, timedelta(minutes=1))
    assert row.last_error and len(row.last_error) <= 200 and "s3cret" not in row.last_error

    await make_due(message)
    await deliver_outbox(mail)
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.PENDING and row.attempts == 2
    assert about(row.next_attempt_at, timedelta(minutes=2))


async def test_gives_up_after_the_last_attempt(db, settings, smtp: SmtpServer) -> None:
    smtp.handler.refusals.append("451 4.3.0 try again later")
    message = await queue()
    await OutboxMessage.filter(id=message.id).update(attempts=MAX_ATTEMPTS - 1)
    mail = with_smtp(settings, smtp.url)

    await deliver_outbox(mail)
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.FAILED and row.attempts == MAX_ATTEMPTS and row.sent_at is None

    await make_due(message)
    await deliver_outbox(mail)
    assert (await OutboxMessage.get(id=message.id)).attempts == MAX_ATTEMPTS, "a FAILED message is not retried"


async def test_a_server_down_for_longer_than_every_attempt_loses_nothing(db, settings) -> None:
    """A message that already waited through more attempts than it may fail is still PENDING after
    another try at a server that is not there: an outage gives no message up, it only waits (at most
    an hour between tries); the first try once the server is back delivers it."""
    message = await queue()
    await OutboxMessage.filter(id=message.id).update(attempts=MAX_ATTEMPTS + 3)
    await deliver_outbox(with_smtp(settings, f"smtp://127.0.0.1:{free_port()}"))
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.PENDING and row.attempts == MAX_ATTEMPTS + 4 and row.sent_at is None
    assert about(row.next_attempt_at, backoff(MAX_ATTEMPTS + 4)) and backoff(MAX_ATTEMPTS + 4) == timedelta(hours=1)


async def test_a_message_the_server_broke_on_waits_longer_and_is_not_given_up(db, settings) -> None:
    """The message in flight when the connection broke may be what breaks it: it is not given up (the
    server may just be down), but it waits twice as long as the rest, so it does not stand first in
    every batch and hold up the messages queued after it."""
    suspect, other = await queue("one@clinic.example"), await queue("two@clinic.example")
    for message in (suspect, other):
        await OutboxMessage.filter(id=message.id).update(attempts=MAX_ATTEMPTS - 1)
        await message.refresh_from_db()
    await _mark_failed(suspect, ConnectionResetError("hung up"), settings, own=False, suspect=True)
    await _mark_failed(other, ConnectionResetError("hung up"), settings, own=False)
    rows = {m.id: m for m in await OutboxMessage.filter(id__in=[suspect.id, other.id])}
    assert {m.status for m in rows.values()} == {OutboxStatus.PENDING}
    assert about(rows[suspect.id].next_attempt_at, 2 * backoff(MAX_ATTEMPTS))
    assert about(rows[other.id].next_attempt_at, backoff(MAX_ATTEMPTS))


async def test_a_permanent_refusal_fails_at_once(db, settings, smtp: SmtpServer) -> None:
    smtp.handler.refusals.append("550 5.1.1 mailbox unavailable")
    message = await queue()
    await deliver_outbox(with_smtp(settings, smtp.url))
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.FAILED and row.attempts == 1 and "550" in row.last_error


async def test_one_refused_message_does_not_hold_up_the_batch(db, settings, smtp: SmtpServer) -> None:
    smtp.handler.refusals.append("451 4.3.0 try again later")
    first, second = await queue("one@clinic.example"), await queue("two@clinic.example")
    assert await deliver_outbox(with_smtp(settings, smtp.url)) == 1
    statuses = {m.id: m.status for m in await OutboxMessage.filter(id__in=[first.id, second.id])}
    assert sorted(statuses.values()) == [OutboxStatus.PENDING, OutboxStatus.SENT]


async def test_a_message_that_cannot_be_written_fails_without_blocking_others(db, settings, smtp: SmtpServer) -> None:
    broken = await queue("ana@clinic.example\nBcc: everyone@clinic.example")
    fine = await queue("leo@clinic.example")
    assert await deliver_outbox(with_smtp(settings, smtp.url)) == 1
    assert (await OutboxMessage.get(id=broken.id)).status is OutboxStatus.FAILED
    assert (await OutboxMessage.get(id=fine.id)).status is OutboxStatus.SENT
    assert [e.rcpt_tos for e in smtp.handler.envelopes] == [["leo@clinic.example"]]


async def test_more_than_a_batch_goes_out_in_one_pass(db, settings, smtp: SmtpServer) -> None:
    for n in range(BATCH_SIZE + 5):
        await queue(f"staff{n}@clinic.example")
    assert await deliver_outbox(with_smtp(settings, smtp.url)) == BATCH_SIZE + 5
    assert len(smtp.handler.envelopes) == BATCH_SIZE + 5
    assert not await OutboxMessage.filter(status=OutboxStatus.PENDING).exists()


def test_backoff_doubles_up_to_an_hour() -> None:
    minutes = [backoff(n) / timedelta(minutes=1) for n in range(1, 10)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]


async def test_development_without_smtp_logs_the_mail_with_its_link(db, settings, caplog) -> None:
    caplog.set_level(logging.INFO, logger="tessera.mail")
    message = await queue()
    assert await deliver_outbox(with_smtp(settings, None)) == 1

    assert (await OutboxMessage.get(id=message.id)).status is OutboxStatus.SENT
    [record] = [r for r in caplog.records if r.name == "tessera.mail"]
    assert record.levelno == logging.INFO
    assert LINK in record.getMessage() and "ana@clinic.example" in record.getMessage()


async def test_production_without_smtp_keeps_the_mail_pending_and_warns(db, settings, caplog) -> None:
    caplog.set_level(logging.INFO, logger="tessera.mail")
    message = await queue()
    production = dataclasses.replace(with_smtp(settings, None), env="production")
    assert await deliver_outbox(production) == 0

    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.PENDING and row.attempts == 0
    [record] = [r for r in caplog.records if r.name == "tessera.mail"]
    assert record.levelno == logging.WARNING and "TESSERA_SMTP_URL" in record.getMessage()


async def test_run_once_runs_the_mail_job(db, settings, smtp: SmtpServer) -> None:
    await queue()
    done = await run_once(with_smtp(settings, smtp.url))
    assert done["mail"] == 1


async def test_enqueue_renders_in_the_recipients_language(db) -> None:
    message = await queue(language="fr-CA")
    row = await OutboxMessage.get(id=message.id)
    assert row.status is OutboxStatus.PENDING and row.attempts == 0
    assert row.subject == "Votre compte Maple Grove"
    assert row.text_body.startswith("Bonjour Ana") and LINK in row.text_body
    assert row.next_attempt_at <= datetime.now(UTC)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_template_renders_with_its_link(template: str, language: str) -> None:
    values = {**VALUES, "client_name": "<b>Léo</b>\nBcc: x@y"}
    subject, text, html = render(template, language, values)
    assert LINK in text
    assert '<a href="https://tessera.test/register?token=abc123&amp;x=1">' in html
    assert "$" not in subject + text, "every placeholder is filled"
    assert "<b>" not in html, "values are escaped in the HTML part"
    if "$client_name" in str(TEMPLATES[template]):
        assert "&lt;b&gt;Léo&lt;/b&gt;" in html
    assert "\n" not in subject
    english = render(template, "en", values)
    assert (subject == english[0]) is (language == "en"), "French has its own words"


def test_an_unknown_language_falls_back_to_english() -> None:
    assert render("password_reset", "de", VALUES) == render("password_reset", "en", VALUES)


@pytest.mark.skipif(
    BACKEND != "postgres",
    reason="SKIP LOCKED claims are PostgreSQL's: SQLite has no row locks and one process serves it",
)
async def test_two_workers_send_each_message_once(tmp_path: Path, settings, smtp: SmtpServer) -> None:
    """Two workers on separate connections (real transactions, a fresh database) race for 60 messages."""
    count = 3 * BATCH_SIZE
    async with own_database(tmp_path, "mailrace") as database:
        for n in range(count):
            await enqueue(None, template="password_reset", to=f"p{n}@clinic.example", values=VALUES)
        smtp.handler.delay = 0.005  # the workers overlap while the server answers
        mail = with_smtp(dataclasses.replace(settings, database_url=database.url), smtp.url)
        results = await asyncio.gather(run_once(mail), run_once(mail))

        assert sum(r["mail"] for r in results) == count
        assert await OutboxMessage.filter(status=OutboxStatus.SENT).count() == count
        ids = [e["Message-ID"] for e in smtp.handler.messages()]
        assert len(ids) == count and len(set(ids)) == count, "no message went out twice"
        assert sorted(r for e in smtp.handler.envelopes for r in e.rcpt_tos) == sorted(
            f"p{n}@clinic.example" for n in range(count)
        )
