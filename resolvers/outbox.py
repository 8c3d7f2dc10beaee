"""Enqueue mail in the caller's transaction (docs/architecture.md "Data"): a mail server being down loses nothing.

`enqueue` renders the template in the recipient's language and writes one outbox row; the job
runner (`app.mail`) delivers it over SMTP with retries, or logs it when no SMTP server is set.

A link token (`tsl_...`, a registration or password-reset link) opens an account: it is meant for
the recipient's mailbox, not for whoever reads the outbox later. A row holding one records when
that link expires (`link_expires_at`); delivery removes the token from the stored bodies in the
write that marks the row sent, and a job purges the bodies of one never delivered once the link
has expired (`app.mail`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from app.settings import get_settings
from models.outbox import OutboxMessage
from resolvers.context import RequestContext
from resolvers.credentials import LINK_TOKEN_PREFIX
from resolvers.mail_templates import render

# The prefix, then what secrets.token_urlsafe() writes (the URL-safe base64 alphabet).
LINK_TOKEN = re.compile(re.escape(LINK_TOKEN_PREFIX) + r"[A-Za-z0-9_-]+")


def holds_link_token(*texts: str) -> bool:
    return any(LINK_TOKEN.search(text) for text in texts)


def remove_link_tokens(text: str, placeholder: str) -> str:
    """`text` with every link token replaced: the rest (greeting, which link it was) stays readable."""
    return LINK_TOKEN.sub(placeholder, text)


async def enqueue(
    ctx: RequestContext | None,
    *,
    template: str,
    to: str,
    language: str = "en",
    organization_id: Any = None,
    values: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Write one message to the outbox; call it inside the transaction of the change that causes it.

    A link issued with the mail lives `invitation_ttl_seconds` from now (resolvers.access): the row
    records that expiry, a moment after the token's own, so its bodies are never purged early.
    """
    subject, text, html = render(template, language, values or {})
    now = ctx.now() if ctx is not None else datetime.now(UTC)
    link_expires_at = None
    if holds_link_token(text, html):
        settings = ctx.settings if ctx is not None else get_settings()
        link_expires_at = now + timedelta(seconds=settings.invitation_ttl_seconds)
    return await OutboxMessage.create(
        organization_id=organization_id,
        template=template,
        to_address=to,
        subject=subject,
        text_body=text,
        html_body=html,
        next_attempt_at=now,
        link_expires_at=link_expires_at,
    )
