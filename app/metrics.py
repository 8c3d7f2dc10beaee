"""`/metrics` in the Prometheus text format (docs/operations.md), and what feeds it that only the
process can see: the statements each request sends (counted as Tortoise logs them, without turning
its query log on), the database pool, the outbox.

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
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.settings import Settings
from models.enums import OutboxStatus
from models.outbox import OutboxMessage
from resolvers import metrics

STATEMENT_WORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class _StatementLog(logging.Logger):
    """Tortoise's query logger, counting each statement into the request's counter as Tortoise logs
    it, before any record is made: a record is made only if someone asks for DEBUG on this logger
    (the tests' statement counter). Counting through a handler needed DEBUG on and a `LogRecord` per
    statement, about 40 µs of a two-statement read."""

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        # Tortoise logs ("%s: %s", query, values): the query's first word, never the values formatted.
        first = args[0] if args else msg
        if isinstance(first, str) and first.lstrip()[:6].upper().startswith(STATEMENT_WORDS):
            metrics.count_statement()
        if self.isEnabledFor(logging.DEBUG):
            # The record names Tortoise's client as its origin, not this method.
            kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1
            self._log(logging.DEBUG, msg, args, **kwargs)


def count_statements() -> None:
    """Count Tortoise's statements into the request's counter. Its logger stays at INFO whatever the
    root level (a record only for a listener that sets DEBUG on it) and propagates nothing, so its
    records (SQL with its values: PHI, link tokens) never reach the log output."""
    logger = logging.getLogger("tortoise.db_client")
    if type(logger) is not _StatementLog:
        if type(logger) is not logging.Logger:
            # Another logger class (set by a library) would lose its own behaviour to the swap below.
            raise TypeError(f"tortoise.db_client is a {type(logger).__name__}, not a logging.Logger")
        # The instance Tortoise's clients already hold (`tortoise.log.db_client_logger`): its class is
        # swapped in place, since a new logger would not reach them.
        logger.__class__ = _StatementLog
    logger.setLevel(logging.INFO)
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
