"""Test helpers that are neither fixtures nor rows (no tests here): the run's backend and databases of
one's own, GraphQL over HTTP, mailed link tokens, and statement counting.

`TESSERA_TEST_DATABASE=postgres` (set by `make test` when `TESSERA_TEST_POSTGRES_URL` is) runs the
suite on a fresh PostgreSQL database created for the run and dropped after it. Without a reachable
server the run is skipped with a reason, except when `TESSERA_TEST_REQUIRE_POSTGRES` is set (CI),
where that is a failure.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext

from app.db import migrate, tortoise_config
from app.main import create_app
from app.settings import Settings
from models.outbox import OutboxMessage

BACKEND = os.environ.get("TESSERA_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = bool(os.environ.get("TESSERA_TEST_REQUIRE_POSTGRES"))
# The Redis the tests may use (a database of its own: the tests' keys never meet anything else's).
REDIS_URL = os.environ.get("TESSERA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_REDIS = bool(os.environ.get("TESSERA_TEST_REQUIRE_REDIS"))

# Marks a test (or, as `pytestmark`, a module) that races writers in separate transactions with row locks.
needs_concurrent_writers = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="needs concurrent writers in separate transactions with row locks: PostgreSQL only (SQLite has one writer)",
)


# --------------------------------------------------------------------------- databases


async def _postgres_admin(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=5)


@dataclass
class TestDatabase:
    __test__ = False  # a database, not a test class for pytest to collect where a test module imports it

    url: str
    backend: str
    drop: Any = None


async def create_test_database(tmp_dir: Path, label: str = "main") -> TestDatabase:
    """A new, empty database for this run: a SQLite file, or a PostgreSQL database of its own."""
    if BACKEND != "postgres":
        return TestDatabase(url=f"sqlite://{tmp_dir / f'{label}.sqlite3'}", backend="sqlite")
    try:
        admin = await _postgres_admin(POSTGRES_URL)
    except Exception as error:
        message = f"PostgreSQL unreachable at {POSTGRES_URL}: {error}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    name = f"tessera_test_{label}_{uuid.uuid4().hex[:10]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    parts = urlparse(POSTGRES_URL)
    url = urlunparse(parts._replace(path=f"/{name}"))

    async def drop() -> None:
        conn = await _postgres_admin(POSTGRES_URL)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    return TestDatabase(url=url, backend="postgres", drop=drop)


@asynccontextmanager
async def empty_database(tmp_path: Path, label: str) -> AsyncIterator[TestDatabase]:
    """A new, empty database (`create_test_database`), dropped on leaving, also when the block fails."""
    database = await create_test_database(tmp_path, label)
    try:
        yield database
    finally:
        if database.drop is not None:
            await database.drop()


@asynccontextmanager
async def orm(database_url: str, *, migrate_first: bool = False) -> AsyncIterator[None]:
    """The ORM on another database, in a context of its own: the session's database is untouched.

    `migrate_first` runs the project's migrations on it before (inside the context, as `migrate`
    closes the connections it finds).
    """
    async with TortoiseContext():
        if migrate_first:
            await migrate(database_url)
        await Tortoise.init(config=tortoise_config(database_url))
        yield


@asynccontextmanager
async def own_database(tmp_path: Path, label: str) -> AsyncIterator[TestDatabase]:
    """A fresh, migrated database of its own, with the ORM on it in a `TortoiseContext` of its own.

    For tests that need real, separate transactions (concurrency, row locks, SKIP LOCKED) rather than
    the rolled-back test transaction; the session's database and ORM are untouched. On leaving, the
    context's connections are closed and the database is dropped, also when the block fails.
    """
    async with empty_database(tmp_path, label) as database, orm(database.url, migrate_first=True):
        yield database


# --------------------------------------------------------------------------- Redis


async def redis_url_or_skip() -> str:
    """`REDIS_URL` when a Redis answers there; else the test is skipped with the reason (failed in
    CI, where `TESSERA_TEST_REQUIRE_REDIS` is set)."""
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        await client.ping()
    except Exception as error:
        message = f"Redis unreachable at {REDIS_URL}: {error}"
        if REQUIRE_REDIS:
            pytest.fail(message)
        pytest.skip(message)
    finally:
        await client.aclose()
    return REDIS_URL


# --------------------------------------------------------------------------- GraphQL over HTTP


@asynccontextmanager
async def app_client(
    settings: Settings, database: TestDatabase, ip: str = "203.0.113.20"
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the app serving `database` (e.g. from `own_database`), requests from `ip`.

    The app neither opens nor closes the ORM (`manage_database=False`) and runs no jobs.
    """
    app = create_app(replace(settings, database_url=database.url), manage_database=False, run_jobs=False)
    transport = httpx.ASGITransport(app=app, client=(ip, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        yield http


class GQL:
    """POST a document to /graphql and return the decoded body (asserting the HTTP status)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        sent = dict(headers or {})
        if token:
            sent["authorization"] = f"Bearer {token}"
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=sent)
        assert response.status_code == status, response.text
        return response.json()


async def post_graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """POST a document to /graphql and return the decoded body, whatever the HTTP status (races)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return response.json()


async def pages(
    gql: GQL, query: str, variables: dict[str, Any], *path: str, token: str | None = None
) -> list[dict[str, Any]]:
    """Every page of a connection, following `endCursor` (as `$after`) while `hasNextPage`; `path` names
    the fields from `data` down to the connection."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql(query, {**variables, "after": after}, token=token))["data"]
        for name in path:
            page = page[name]
        found.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def nodes(pages: list[dict[str, Any]], field: str) -> list[Any]:
    """One field of every node on these pages, in order."""
    return [edge["node"][field] for page in pages for edge in page["edges"]]


def error_codes(body: dict[str, Any]) -> list[str]:
    """The `extensions.code` of each top-level error."""
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


def payload_codes(payload: dict[str, Any]) -> list[str]:
    """The code of each UserError in a mutation's payload."""
    return [e["code"] for e in payload.get("errors") or []]


# --------------------------------------------------------------------------- statement counting


def token_of(link: str) -> str:
    """The token of a client invitation's link."""
    found = re.search(r"token=(tsl_[A-Za-z0-9_-]+)", link)
    assert found, link
    return found.group(1)


async def mailed_token(email: str) -> str:
    """The link token in the latest mail to `email` (a mailed link is never shown to staff)."""
    mail = await OutboxMessage.filter(to_address=email).order_by("-created_at").first()
    assert mail is not None, email
    return token_of(mail.text_body)


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.statements.append(message)


@contextmanager
def count_statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block (read from Tortoise's db_client debug log)."""
    logger = logging.getLogger("tortoise.db_client")
    handler = _Counter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler.statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
