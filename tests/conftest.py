"""Shared fixtures: a real database per run (SQLite or PostgreSQL), one rolled-back transaction per
test, the ASGI app behind httpx, and factories for organizations, locations, groups and users.

`TESSERA_TEST_DATABASE=postgres` (set by `make test` when `TESSERA_TEST_POSTGRES_URL` is) runs the
suite on a fresh PostgreSQL database created for the run and dropped after it. Without a reachable
server the run is skipped with a reason, except when `TESSERA_TEST_REQUIRE_POSTGRES` is set (CI),
where that is a failure.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import httpx
import pytest
from tortoise import Tortoise
from tortoise.context import TortoiseContext
from tortoise.transactions import in_transaction

from app.db import migrate, tortoise_config
from app.main import create_app
from app.settings import Settings
from models.enums import AccessStatus, UserType
from models.groups import GroupLocation, GroupMembership, PermissionGroup
from models.organization import Location, Organization
from models.sessions import Session
from models.users import User, UserLocation
from permissions.catalog import Permission
from resolvers.credentials import STAFF_SESSION_PREFIX, hash_secret, new_token, token_hash

BACKEND = os.environ.get("TESSERA_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = bool(os.environ.get("TESSERA_TEST_REQUIRE_POSTGRES"))

PASSWORD = "violet-harbour-lantern-42"
PIN = "4827"
_PASSWORD_HASH: str | None = None
_PIN_HASH: str | None = None


def password_hash() -> str:
    """One argon2 hash for every test user (hashing is deliberately slow; do it once)."""
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_secret(PASSWORD)
    return _PASSWORD_HASH


def pin_hash() -> str:
    global _PIN_HASH
    if _PIN_HASH is None:
        _PIN_HASH = hash_secret(PIN)
    return _PIN_HASH


def pytest_report_header(config: pytest.Config) -> str:
    where = POSTGRES_URL if BACKEND == "postgres" else "SQLite (temporary file)"
    return f"tessera test database: {BACKEND} - {where}"


# --------------------------------------------------------------------------- database


async def _postgres_admin(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=5)


@dataclass
class TestDatabase:
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


class _Rollback(Exception):
    pass


@pytest.fixture
async def db(database: TestDatabase) -> AsyncIterator[TestDatabase]:
    """Each test inside one transaction that is rolled back: isolation at no cost.

    Tests that need real, separate transactions (concurrency, SKIP LOCKED) use their own database
    (see `own_database`) instead.
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


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GQL:
    return GQL(client)


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


# --------------------------------------------------------------------------- statement counting


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


# --------------------------------------------------------------------------- factories


@dataclass
class Staff:
    """A user made by the factory, with a ready session token."""

    user: User
    token: str
    session: Session


@dataclass
class Org:
    """An organization with two locations (A1/A2 style) and its admin."""

    organization: Organization
    locations: list[Location]
    admin: Staff
    factory: Factory = field(repr=False)

    @property
    def id(self) -> str:
        return str(self.organization.id)


class Factory:
    async def organization(self, slug: str | None = None, *, seat_limit: int | None = None) -> Org:
        slug = slug or f"org-{uuid.uuid4().hex[:8]}"
        org = await Organization.create(id=uuid.uuid4(), name=f"Clinic {slug}", slug=slug, seat_limit=seat_limit)
        locations = [await self.location(org, f"{slug} site {n}") for n in (1, 2)]
        admin = await self.user(org, username="admin", is_admin=True, all_locations=True, type=UserType.MANAGER)
        return Org(org, locations, admin, self)

    async def location(self, org: Organization, name: str, *, active: bool = True) -> Location:
        return await Location.create(
            id=uuid.uuid4(),
            organization=org,
            name=name,
            name_key=name.lower(),
            timezone="America/Toronto",
            address_province="ON",
            address_country="CA",
            is_active=active,
        )

    async def group(
        self,
        org: Organization,
        permissions: list[Permission],
        *,
        name: str | None = None,
        locations: list[Location] | None = None,
    ) -> PermissionGroup:
        name = name or f"group {uuid.uuid4().hex[:6]}"
        group = await PermissionGroup.create(
            id=uuid.uuid4(),
            organization=org,
            name=name,
            name_key=name.lower(),
            permission_codes=",".join(p.value for p in permissions),
            all_locations=locations is None,
        )
        for loc in locations or []:
            await GroupLocation.create(id=uuid.uuid4(), organization=org, group=group, location=loc)
        return group

    async def user(
        self,
        org: Organization,
        *,
        username: str | None = None,
        first_name: str = "Test",
        last_name: str | None = None,
        type: UserType = UserType.FRONT_DESK,
        is_admin: bool = False,
        all_locations: bool = False,
        locations: list[Location] | None = None,
        groups: list[PermissionGroup] | None = None,
        access: AccessStatus = AccessStatus.ENABLED,
        active: bool = True,
        password_reset_required: bool = False,
        with_pin: bool = True,
        email: str | None = None,
        session: bool = True,
        **extra: Any,
    ) -> Staff:
        username = username or f"user{uuid.uuid4().hex[:8]}"
        last_name = last_name or username.capitalize()
        user = await User.create(
            id=uuid.uuid4(),
            organization=org,
            username=username,
            username_key=username.lower(),
            first_name=first_name,
            last_name=last_name,
            last_name_key=last_name.lower(),
            type=type,
            email=email or f"{username}@clinic.example",
            is_admin=is_admin,
            is_active=active,
            password_hash=password_hash(),
            pin_hash=pin_hash() if with_pin else None,
            password_reset_required=password_reset_required,
            access_status=access,
            all_locations=all_locations,
            **extra,
        )
        for loc in locations or []:
            await UserLocation.create(id=uuid.uuid4(), organization=org, user=user, location=loc)
        for group in groups or []:
            await GroupMembership.create(id=uuid.uuid4(), organization=org, group=group, user=user)
        token, sess = (await self.session(user)) if session else ("", None)
        return Staff(user, token, sess)  # type: ignore[arg-type]

    async def session(self, user: User, *, idle_for: timedelta = timedelta(0)) -> tuple[str, Session]:
        """A session straight in the table (no argon2): what `login` would have made."""
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        token = new_token(STAFF_SESSION_PREFIX)
        sess = await Session.create(
            id=uuid.uuid4(),
            organization_id=user.organization_id,
            user=user,
            token_hash=token_hash(token),
            last_seen_at=now - idle_for,
            expires_at=now + timedelta(hours=12),
        )
        return token, sess


@pytest.fixture
def factory(db: TestDatabase) -> Factory:
    return Factory()


@pytest.fixture
async def org_a(factory: Factory) -> Org:
    return await factory.organization("clinic-a")


@pytest.fixture
async def org_b(factory: Factory) -> Org:
    return await factory.organization("clinic-b")
