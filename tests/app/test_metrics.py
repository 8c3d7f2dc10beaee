"""/metrics (app/metrics.py, issue 13): the Prometheus text format with requests by operation and
outcome, latency, statements per request, the outbox and the jobs; labels bounded by the schema;
in production only with the metrics token."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from app.main import create_app
from app.settings import Settings
from tests.factories import Factory, Org, queued_mail
from tests.support import GQL, count_statements


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _metrics(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await client.get("/metrics", headers=headers)


async def test_requests_are_counted_by_operation_and_outcome(client: httpx.AsyncClient, gql: GQL, org_a: Org) -> None:
    ok_before = sample("tessera_requests_total", operation="query:viewer", outcome="ok")
    anon_before = sample("tessera_requests_total", operation="query:viewer", outcome="unauthenticated")
    statements_before = sample("tessera_sql_statements_per_request_count")
    await gql("{ viewer { kind } }", token=org_a.admin.token)
    await gql("{ viewer { kind } }")
    assert sample("tessera_requests_total", operation="query:viewer", outcome="ok") == ok_before + 1
    assert sample("tessera_requests_total", operation="query:viewer", outcome="unauthenticated") == anon_before + 1
    assert sample("tessera_sql_statements_per_request_count") == statements_before + 2
    assert sample("tessera_sql_statements_per_request_sum") > 0
    body = (await _metrics(client)).text
    assert 'tessera_requests_total{operation="query:viewer",outcome="ok"}' in body
    assert "tessera_request_seconds_bucket" in body and "tessera_outbox_backlog" in body


async def test_the_statements_histogram_counts_each_statement_a_request_sends(gql: GQL, org_a: Org) -> None:
    """Counted as Tortoise logs them, whether or not anything listens at DEBUG (the tests' own
    counter does; production does not, and then no record is made at all)."""
    query = "{ users(first: 5) { edges { node { id } } } }"
    before = sample("tessera_sql_statements_per_request_sum")
    with count_statements() as seen:
        await gql(query, token=org_a.admin.token)
    assert len(seen) >= 2
    assert sample("tessera_sql_statements_per_request_sum") == before + len(seen)
    logger, root = logging.getLogger("tortoise.db_client"), logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)  # TESSERA_LOG_LEVEL=DEBUG: still no record per statement
    try:
        assert not logger.isEnabledFor(logging.DEBUG) and not logger.propagate
    finally:
        root.setLevel(level)
    before = sample("tessera_sql_statements_per_request_sum")
    await gql(query, token=org_a.admin.token)
    assert sample("tessera_sql_statements_per_request_sum") == before + len(seen)


async def test_no_caller_input_becomes_a_label(client: httpx.AsyncClient, gql: GQL, org_a: Org) -> None:
    await client.post(
        "/graphql",
        json={"query": "query Spoof123 { viewer { kind } }", "operationName": "Spoof123"},
        headers={"authorization": f"Bearer {org_a.admin.token}"},
    )
    await gql("{ noSuchField }", token=org_a.admin.token)
    await gql('mutation { createClient(input: {firstName: "A"}) { errors { code } } }', token=org_a.admin.token)
    body = (await _metrics(client)).text
    assert "Spoof123" not in body and "noSuchField" not in body
    assert 'operation="query:(invalid)"' in body


async def test_user_errors_and_refusals_have_their_outcomes(gql: GQL, factory: Factory, org_a: Org) -> None:
    desk = await factory.user(org_a.organization, username="nogroups")
    forbidden = sample("tessera_requests_total", operation="query:clients", outcome="forbidden")
    await gql("{ clients { totalCount } }", token=desk.token)
    assert sample("tessera_requests_total", operation="query:clients", outcome="forbidden") == forbidden + 1
    user_error = sample("tessera_requests_total", operation="mutation:createLocation", outcome="user_error")
    await gql(
        'mutation { createLocation(input: {name: "", timezone: "Mars/Base"}) { errors { code } } }',
        token=org_a.admin.token,
    )
    assert sample("tessera_requests_total", operation="mutation:createLocation", outcome="user_error") == user_error + 1


async def test_the_outbox_backlog_is_read_at_scrape_time(client: httpx.AsyncClient, org_a: Org) -> None:
    await queued_mail(org_a.organization)
    await _metrics(client)
    assert sample("tessera_outbox_backlog") >= 1
    assert sample("tessera_outbox_oldest_undelivered_seconds") >= 0


async def test_jobs_are_counted(settings: Settings) -> None:
    from app.jobs import run_once

    before = sample("tessera_job_runs_total", job="provider_deactivations")
    await run_once(settings, ["provider_deactivations"])
    assert sample("tessera_job_runs_total", job="provider_deactivations") == before + 1


@pytest.mark.parametrize(
    ("token", "sent", "status"), [(None, None, 404), ("m" * 32, None, 401), ("m" * 32, "m" * 32, 200)]
)
async def test_production_metrics_need_the_metrics_token(
    settings: Settings, db: Any, token: str | None, sent: str | None, status: int
) -> None:
    production = dataclasses.replace(settings, env="production", metrics_token=token, introspection=False)
    app = create_app(production, manage_database=False, run_jobs=False)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        headers = {"authorization": f"Bearer {sent}"} if sent else {}
        response = await http.get("/metrics", headers=headers)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.headers["content-type"].startswith("text/plain") and "tessera_requests_total" in response.text


def test_the_sql_the_statement_counter_reads_never_reaches_the_log_output(capfd: pytest.CaptureFixture[str]) -> None:
    import logging

    from app.logging import configure_logging
    from app.metrics import count_statements

    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        configure_logging("DEBUG")
        count_statements()
        logging.getLogger("tortoise.db_client").debug("INSERT INTO outbox_messages VALUES (%s)", "tsl_secret-token")
        logging.getLogger("tessera").info("a line that is written")
        out, err = capfd.readouterr()
    finally:  # the process's logging as it was, for the tests after this one
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
    assert "a line that is written" in out + err
    assert "tsl_secret-token" not in out + err


def test_an_operation_label_is_remembered_by_document_and_operation_name() -> None:
    from graphql import parse

    from schema.api import build_schema
    from schema.request_metrics import operation_label

    schema = build_schema()._schema
    document = parse("query A { viewer { kind } } query B { users { totalCount } } mutation C { logout { ok } }")
    for _ in range(2):  # worked out, then remembered
        assert operation_label(schema, document, "A") == "query:viewer"
        assert operation_label(schema, document, "B") == "query:users"
        assert operation_label(schema, document, "C") == "mutation:logout"
        assert operation_label(schema, document, "D") == "(invalid)"
        assert operation_label(schema, parse("{ nope }"), None) == "query:(invalid)"
