"""The scheduled-deactivation job: applies every provider deactivation whose date has passed.

Access is already refused from that date by `resolvers.sessions.denial_reason`; this job does the
follow-up (provider and user inactive, sessions ended, clients reassigned). On PostgreSQL it claims
rows with FOR UPDATE SKIP LOCKED, so several workers never apply one deactivation twice.
"""

from __future__ import annotations

import uuid

from app.settings import Settings
from resolvers.context import RequestContext
from resolvers.providers import apply_due_deactivations

BATCH = 100


async def provider_deactivations(settings: Settings) -> int:
    """Apply due deactivations in batches until none is left; returns how many were applied."""
    ctx = RequestContext(settings=settings, request_id=f"job-{uuid.uuid4()}")
    ctx._resolved = True  # no caller: the audit events name the job as a SYSTEM actor
    total = 0
    while True:
        done = await apply_due_deactivations(ctx, limit=BATCH)
        total += done
        if done < BATCH:
            return total
