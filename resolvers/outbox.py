"""Enqueue mail in the caller's transaction (DESIGN §6): a mail server being down loses nothing.

`enqueue` renders the template in the recipient's language and writes one outbox row; the job
runner (`app.mail`) delivers it over SMTP with retries, or logs it when no SMTP server is set.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from models.outbox import OutboxMessage
from resolvers.context import RequestContext
from resolvers.mail_templates import render


async def enqueue(
    ctx: RequestContext | None,
    *,
    template: str,
    to: str,
    language: str = "en",
    organization_id: Any = None,
    values: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Write one message to the outbox; call it inside the transaction of the change that causes it."""
    subject, text, html = render(template, language, values or {})
    now = ctx.now() if ctx is not None else datetime.now(UTC)
    return await OutboxMessage.create(
        id=uuid.uuid4(),
        organization_id=organization_id,
        template=template,
        to_address=to,
        subject=subject,
        text_body=text,
        html_body=html,
        next_attempt_at=now,
    )
