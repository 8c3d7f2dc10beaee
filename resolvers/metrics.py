"""The service's Prometheus metrics, declared once (docs/operations.md lists them and the alerts worth
setting). A leaf module: any layer may count into it; app/metrics.py exposes them at /metrics.

Labels are bounded: an operation is named by its type and root field (from the schema, never the
caller's `operationName`), an outcome by one of `OUTCOMES`, a job by the jobs table's names.
With several workers (`PROMETHEUS_MULTIPROC_DIR`, set by `tessera serve --workers N`), each process
writes its own files and /metrics sums them.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import lru_cache

from prometheus_client import Counter, Gauge, Histogram

from models.sql import pool_in_use

OUTCOMES = (
    "ok",
    "user_error",
    "forbidden",
    "unauthenticated",
    "rate_limited",
    "too_complex",
    "unavailable",
    "internal",
)

REQUESTS = Counter("tessera_requests_total", "GraphQL requests by operation and outcome.", ["operation", "outcome"])
LATENCY = Histogram(
    "tessera_request_seconds",
    "GraphQL request latency by operation.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
STATEMENTS = Histogram(
    "tessera_sql_statements_per_request",
    "SQL statements one GraphQL request sent.",
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89),
)
# Each worker's own pool, refreshed at each of its requests (schema/request_metrics.py); summed over live workers.
POOL_IN_USE = Gauge(
    "tessera_db_pool_in_use", "Database connections in use (PostgreSQL pool).", multiprocess_mode="livesum"
)
# Read at scrape time by whichever worker answers: the most recent reading is the truth.
OUTBOX_BACKLOG = Gauge(
    "tessera_outbox_backlog", "Mail messages waiting to be delivered.", multiprocess_mode="mostrecent"
)
OUTBOX_OLDEST = Gauge(
    "tessera_outbox_oldest_undelivered_seconds",
    "Age of the oldest undelivered mail message.",
    multiprocess_mode="mostrecent",
)
JOB_RUNS = Counter("tessera_job_runs_total", "Scheduled job runs.", ["job"])
JOB_FAILURES = Counter("tessera_job_failures_total", "Scheduled job runs that failed.", ["job"])
LOGIN_FAILURES = Counter("tessera_login_failures_total", "Failed logins (staff and portal).", ["kind"])
LOGIN_THROTTLED = Counter("tessera_login_throttled_total", "Logins refused by the throttle.", ["kind"])

# The statements of the request being served (app/metrics.py counts them from Tortoise's query log).
statements: ContextVar[list[int] | None] = ContextVar("tessera_statements", default=None)


def count_statement() -> None:
    counter = statements.get()
    if counter is not None:
        counter[0] += 1


def refresh_pool() -> None:
    """This worker's PostgreSQL pool in use (SQLite has none)."""
    in_use = pool_in_use()
    if in_use is not None:
        POOL_IN_USE.set(in_use)


@lru_cache(maxsize=4096)
def request_counters(operation: str, outcome: str) -> tuple[Counter, Histogram]:
    """The request counter and latency histogram of one (operation, outcome): looked up once, since
    both label sets are bounded (module docstring), rather than by `labels()` at every request."""
    return REQUESTS.labels(operation, outcome), LATENCY.labels(operation)
