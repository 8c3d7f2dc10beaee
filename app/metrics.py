"""`/metrics` in the Prometheus text format (docs/operations.md), and what feeds it that only the
process can see: the statements each request sends (counted from Tortoise's query log, which this
module turns on for that alone), the database pool, the outbox.

Access: in development anyone on the network may read it; in production only a caller sending
`Authorization: Bearer $TESSERA_METRICS_TOKEN` (none set: /metrics answers 404). With several
workers each writes its own files under `PROMETHEUS_MULTIPROC_DIR` (`tessera serve --workers N`
sets one) and this sums them.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.settings import Settings
from models.enums import OutboxStatus
from models.outbox import OutboxMessage
from resolvers import metrics

STATEMENT_WORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class _StatementCounter(logging.Handler):
    """Counts every statement Tortoise logs into the request's counter; writes nothing anywhere."""

    def emit(self, record: logging.LogRecord) -> None:
        # Tortoise logs ("%s: %s", query, values): the query's first word, never the values formatted.
        first = record.args[0] if isinstance(record.args, tuple) and record.args else record.msg
        if isinstance(first, str) and first.lstrip()[:6].upper().startswith(STATEMENT_WORDS):
            metrics.count_statement()


def count_statements() -> None:
    """Turn on Tortoise's per-statement debug log for counting only: the logger propagates nothing, so
    its records (SQL with its values: PHI, link tokens) never reach the log output."""
    logger = logging.getLogger("tortoise.db_client")
    if not any(isinstance(h, _StatementCounter) for h in logger.handlers):
        logger.addHandler(_StatementCounter())
        logger.setLevel(logging.DEBUG)
        logger.propagate = False


async def _refresh_gauges() -> None:
    """What is read at scrape time: the outbox's backlog and its oldest message (and this worker's pool)."""
    pending = OutboxMessage.filter(status=OutboxStatus.PENDING)
    metrics.OUTBOX_BACKLOG.set(await pending.count())
    oldest = await pending.order_by("created_at").limit(1).values_list("created_at", flat=True)
    first = oldest[0] if oldest else None
    metrics.OUTBOX_OLDEST.set((datetime.now(UTC) - first).total_seconds() if first else 0)
    metrics.refresh_pool()


def _allowed(request: Request, settings: Settings) -> bool:
    if not settings.is_production:
        return True
    if not settings.metrics_token:
        return False
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(
        token.strip().encode(), settings.metrics_token.encode()
    )


def endpoint(settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    async def serve_metrics(request: Request) -> Response:
        if not _allowed(request, settings):
            code = "UNAUTHENTICATED" if settings.metrics_token else "NOT_FOUND"
            status = 401 if settings.metrics_token else 404
            return JSONResponse(
                {"errors": [{"message": "Not here.", "extensions": {"code": code}}]}, status_code=status
            )
        await _refresh_gauges()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return serve_metrics
