"""Mail: written to the outbox in the caller's transaction, delivered by the job runner (docs/architecture.md "Data").

The `mail` job claims due PENDING rows in small batches and sends them over SMTP. A claim is a
short transaction that locks the rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so a second
worker takes other rows instead of waiting) and pushes their `next_attempt_at` a lease ahead:
the rows stay PENDING but no other worker sees them as due while this one talks to the mail
server, and no database transaction is held open across the network. A message is then marked
SENT, or its attempt is counted and it is retried with exponential backoff (at most an hour
apart), or, past `MAX_ATTEMPTS` (or on a permanent 5xx refusal) of its own, marked FAILED. A
server that cannot be reached, or hangs up, counts an attempt of every message waiting but gives
none up, however long it stays down (the outbox backlog alert tells the operator); the message it
hung up on waits twice as long as the rest. A worker that dies mid-batch leaves its rows to be
picked up again when the lease runs out: nothing is lost.

Without `TESSERA_SMTP_URL`, development writes each mail to the `tessera.mail` log (with its
links, so a developer can click them) and marks it SENT; production leaves it PENDING and warns,
so mail queued before the mail server is configured goes out once it is.

A link token (registration, password reset) is for the recipient's mailbox only: the write that
marks a message SENT also replaces the token in its stored bodies. A message whose link expired
before it was delivered is never claimed; the `mail_link_purge` job then purges its bodies and
marks a pending one EXPIRED (a FAILED one keeps its status and the reason it failed).
"""

from __future__ import annotations

import logging
import re
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from urllib.parse import unquote, urlparse

import aiosmtplib
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from app.settings import Settings
from models.enums import OutboxStatus
from models.outbox import OutboxMessage
from resolvers.outbox import holds_link_token, remove_link_tokens

log = logging.getLogger("tessera.mail")

BATCH_SIZE = 20
MAX_BATCHES_PER_RUN = 10  # one pass sends at most 200 messages; the next pass, a minute later, goes on
MAX_ATTEMPTS = 8
MAX_BACKOFF = timedelta(hours=1)
LEASE = timedelta(minutes=5)  # longer than a batch can take: SMTP_TIMEOUT bounds every step
SMTP_TIMEOUT = 15.0
ERROR_LENGTH = 200
# Where a delivered message's link token stood, in its stored bodies.
TOKEN_REMOVED = "[link removed after delivery]"
# The whole of each body of a message whose link expired before it was delivered.
BODY_PURGED = "[purged: the link in this message expired before it was delivered]"

_LINK = re.compile(r"https?://\S+")

Send = Callable[[OutboxMessage], Awaitable[None]]

# Errors about one message (the server refused it, or it cannot be written as an email, e.g. a line
# break in an address); anything else from the transport is about the connection.
MESSAGE_ERRORS = (
    aiosmtplib.SMTPResponseException,
    aiosmtplib.SMTPRecipientsRefused,
    aiosmtplib.SMTPNotSupported,
    ValueError,
)


def backoff(attempts: int) -> timedelta:
    """The wait after failed attempt number `attempts` (1-based): 1, 2, 4, 8... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** (max(attempts, 1) - 1)), MAX_BACKOFF)


def build_email(message: OutboxMessage, sender: str) -> EmailMessage:
    """multipart/alternative: the text part first, the HTML part preferred by clients that show it."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    # Stable across retries, so a receiving server can drop a duplicate of an attempt it half-took.
    domain = parseaddr(sender)[1].rpartition("@")[2] or "tessera.local"
    email["Message-ID"] = f"<{message.id}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.text_body)
    email.add_alternative(message.html_body, subtype="html")
    return email


# --------------------------------------------------------------------------- transports


@asynccontextmanager
async def _log_transport(settings: Settings) -> AsyncIterator[Send]:
    """Development without a mail server: the mail goes to the log, links first."""

    async def send(message: OutboxMessage) -> None:
        links = " ".join(dict.fromkeys(_LINK.findall(message.text_body)))
        log.info(
            "mail to %s (logged, not sent: TESSERA_SMTP_URL is not set): %s %s",
            message.to_address,
            message.subject,
            links,
            extra={"outbox_id": str(message.id), "template": message.template, "body": message.text_body},
        )

    yield send


@asynccontextmanager
async def _smtp_transport(settings: Settings) -> AsyncIterator[Send]:
    """One SMTP connection for the batch; smtps:// is TLS from the start, smtp:// upgrades if offered."""
    url = urlparse(settings.smtp_url or "")
    tls = url.scheme == "smtps"
    smtp = aiosmtplib.SMTP(
        hostname=url.hostname,
        port=url.port or (465 if tls else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_tls=tls,
        timeout=SMTP_TIMEOUT,
        local_hostname=socket.gethostname(),  # getfqdn() can wait on DNS for seconds
    )
    await smtp.connect()
    try:

        async def send(message: OutboxMessage) -> None:
            await smtp.send_message(build_email(message, settings.mail_from))

        yield send
    finally:
        try:
            await smtp.quit()
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()


# --------------------------------------------------------------------------- outcomes


def _is_permanent(error: BaseException) -> bool:
    """A 5xx refusal, or a message that cannot be written, fails again: retrying only delays telling someone."""
    if isinstance(error, ValueError):
        return True
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(500 <= r.code < 600 for r in error.recipients)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return 500 <= error.code < 600 and not isinstance(error, aiosmtplib.SMTPAuthenticationError)
    return False


def short_error(error: BaseException, settings: Settings) -> str:
    """What went wrong, in one short line, without the SMTP password."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
    elif isinstance(error, aiosmtplib.SMTPResponseException):
        detail = f"{error.code} {error.message}"
    else:
        detail = str(error)
    text = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    password = urlparse(settings.smtp_url or "").password
    if password:
        text = text.replace(password, "***").replace(unquote(password), "***")
    return " ".join(text.split())[:ERROR_LENGTH]


def _without_link_tokens(message: OutboxMessage) -> dict[str, object]:
    """The stored bodies of a delivered message, its link tokens replaced; nothing for one without any.

    Bodies are checked, not only `link_expires_at`, so a row written before that column still loses
    its token.
    """
    if message.link_expires_at is None and not holds_link_token(message.text_body, message.html_body):
        return {}
    return {
        "text_body": remove_link_tokens(message.text_body, TOKEN_REMOVED),
        "html_body": remove_link_tokens(message.html_body, TOKEN_REMOVED),
        "link_expires_at": None,
    }


async def _mark_sent(message: OutboxMessage) -> None:
    """SENT, and the link token out of the stored bodies in the same write: no moment holds one without the other."""
    now = datetime.now(UTC)
    await OutboxMessage.filter(id=message.id).update(
        status=OutboxStatus.SENT,
        sent_at=now,
        attempts=message.attempts + 1,
        last_error=None,
        **_without_link_tokens(message),
    )


async def _mark_failed(
    message: OutboxMessage, error: BaseException, settings: Settings, *, own: bool = True, suspect: bool = False
) -> None:
    """The attempt counted and the next one scheduled, or FAILED: past `MAX_ATTEMPTS` or on a
    permanent refusal, and only for a failure of the message's `own` (a refusal of it). A failure
    of the server gives nothing up; the message it broke on (`suspect`) waits twice as long as the
    rest, so one that breaks the connection every time does not stand first in every batch."""
    attempts = message.attempts + 1
    gave_up = own and (attempts >= MAX_ATTEMPTS or _is_permanent(error))
    reason = short_error(error, settings)
    changes: dict[str, object] = {"attempts": attempts, "last_error": reason}
    if gave_up:
        changes["status"] = OutboxStatus.FAILED
    else:
        changes["next_attempt_at"] = datetime.now(UTC) + backoff(attempts) * (2 if suspect else 1)
    await OutboxMessage.filter(id=message.id).update(**changes)
    log.warning(
        "mail not delivered" + ("; giving up" if gave_up else "; will retry"),
        extra={"outbox_id": str(message.id), "attempts": attempts, "error": reason},
    )


# --------------------------------------------------------------------------- the job


def _due(now: datetime) -> QuerySet[OutboxMessage]:
    """PENDING messages whose attempt is due, leaving out any whose link has expired: correctness does
    not wait for the purge job (docs/architecture.md "Data"), an expired link is never sent."""
    link_valid = Q(link_expires_at__isnull=True) | Q(link_expires_at__gt=now)
    return OutboxMessage.filter(link_valid, status=OutboxStatus.PENDING, next_attempt_at__lte=now)


async def claim(limit: int = BATCH_SIZE) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this worker: lock them, then push them a lease ahead.

    The lease is written only where the row is still due, and the batch is what carries this
    worker's own lease: on PostgreSQL the row locks already guarantee it; on SQLite (no row locks)
    it keeps two server processes from both taking a message.
    """
    now = datetime.now(UTC)
    lease = now + LEASE + timedelta(microseconds=secrets.randbelow(1_000_000))
    async with in_transaction():
        due = _due(now)
        # Whole rows: Tortoise drops FOR UPDATE from a values_list() query.
        locked = await due.order_by("next_attempt_at").limit(limit).select_for_update(skip_locked=True)
        if not locked:
            return []
        ids = [m.id for m in locked]
        await due.filter(id__in=ids).update(next_attempt_at=lease)
        return await OutboxMessage.filter(id__in=ids, next_attempt_at=lease).order_by("created_at")


async def deliver(batch: list[OutboxMessage], settings: Settings) -> int:
    """Send a claimed batch; return how many went out. Every message ends SENT, retried or FAILED."""
    transport = _smtp_transport if settings.smtp_url else _log_transport
    unsettled = list(batch)
    sent = 0
    in_flight: OutboxMessage | None = None
    try:
        async with transport(settings) as send:
            while unsettled:
                message = in_flight = unsettled[0]
                try:
                    await send(message)
                except MESSAGE_ERRORS as error:
                    # This message's problem; the connection goes on to the next one.
                    in_flight = None
                    unsettled.pop(0)
                    await _mark_failed(message, error, settings)
                    continue
                in_flight = None
                unsettled.pop(0)
                await _mark_sent(message)
                sent += 1
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        # The server is down or hung up: what was not settled waits for its next attempt, however
        # long the outage lasts (a mail server being down loses nothing).
        for message in unsettled:
            await _mark_failed(message, error, settings, own=False, suspect=message is in_flight)
    return sent


async def deliver_outbox(settings: Settings) -> int:
    """Deliver what is due from the outbox; return how many messages went out."""
    if not settings.smtp_url and settings.is_production:
        waiting = await _due(datetime.now(UTC)).count()
        if waiting:
            log.warning(
                "mail is waiting in the outbox but TESSERA_SMTP_URL is not set; it stays pending",
                extra={"pending": waiting},
            )
        return 0
    sent = 0
    for _ in range(MAX_BATCHES_PER_RUN):
        batch = await claim()
        delivered = await deliver(batch, settings) if batch else 0
        sent += delivered
        if len(batch) < BATCH_SIZE or delivered < len(batch):
            break  # nothing more is due, or the server is struggling: the next pass goes on
    return sent


async def purge_expired_links(settings: Settings) -> int:
    """Purge the bodies of undelivered messages whose link has expired; return how many.

    The token no longer opens anything, but the outbox is no place to keep one: a pending message
    becomes EXPIRED (never sent), any other keeps its status (a FAILED one, why it failed). Found by
    the `link_expires_at` index and cleared with it, so a row is purged once; two workers running
    this at once purge the same rows to the same values.
    """
    expired = OutboxMessage.filter(link_expires_at__lte=datetime.now(UTC))
    purged: dict[str, object] = {"text_body": BODY_PURGED, "html_body": BODY_PURGED, "link_expires_at": None}
    async with in_transaction():
        held = await expired.filter(status=OutboxStatus.PENDING).update(status=OutboxStatus.EXPIRED, **purged)
        others = await expired.update(**purged)
    return held + others
