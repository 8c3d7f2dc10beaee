"""Mail: written to the outbox in the caller's transaction, delivered by the job runner (DESIGN §6)."""

from __future__ import annotations
