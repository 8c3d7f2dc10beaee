"""The suite's pytest fixtures, and only fixtures: the run's database (SQLite or PostgreSQL, see
`tests/support.py`), one rolled-back transaction per test, the ASGI app behind httpx, and the
factory with two organizations. Rows come from `tests/factories.py`, helpers from
`tests/support.py`; `tests/README.md` says where a new test goes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from app.db import migrate, tortoise_config
from app.main import create_app
from app.settings import Settings
from tests.factories import Factory, Org
from tests.support import BACKEND, GQL, POSTGRES_URL, TestDatabase, create_test_database


def pytest_report_header(config: pytest.Config) -> str:
    where = POSTGRES_URL if BACKEND == "postgres" else "SQLite (temporary file)"
    return f"tessera test database: {BACKEND} - {where}"


@pytest.fixture(scope="session")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TestDatabase]:
    """The run's database, migrated from empty with the project's own migrations."""
    db = await create_test_database(tmp_path_factory.mktemp("db"))
    await migrate(db.url)
    await Tortoise.init(config=tortoise_config(db.url), _enable_global_fallback=True)
    yield db
    await Tortoise.close_connections()
    if db.drop is not None:
        await db.drop()


class _Rollback(Exception):
    pass


@pytest.fixture
async def db(database: TestDatabase) -> AsyncIterator[TestDatabase]:
    """Each test inside one transaction that is rolled back: isolation at no cost.

    Tests that need real, separate transactions (concurrency, SKIP LOCKED) use their own database
    (`tests.support.own_database`) instead.
    """
    try:
        async with in_transaction():
            yield database
            raise _Rollback
    except _Rollback:
        pass


@pytest.fixture
def settings(database: TestDatabase) -> Settings:
    return Settings(
        database_url=database.url,
        env="development",
        public_url="https://tessera.test",
        introspection=True,
    )


@pytest.fixture
def app(settings: Settings) -> Any:
    return create_app(settings, manage_database=False, run_jobs=False)


@pytest.fixture
async def client(app: Any, db: TestDatabase) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
        yield http


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GQL:
    return GQL(client)


@pytest.fixture
def factory(db: TestDatabase) -> Factory:
    return Factory()


@pytest.fixture
async def org_a(factory: Factory) -> Org:
    return await factory.organization("clinic-a")


@pytest.fixture
async def org_b(factory: Factory) -> Org:
    return await factory.organization("clinic-b")
