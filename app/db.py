"""Database configuration and migrations (the raw-SQL helper is `models.sql`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.graph import MigrationKey
from tortoise.migrations.loader import MigrationLoader
from tortoise.migrations.recorder import MigrationRecorder

from models import MODEL_MODULES

APP_LABEL = "models"


SQLITE_BUSY_TIMEOUT_MS = 5000


def _connection(url: str) -> str | dict[str, Any]:
    """The Tortoise connection for `url`. PostgreSQL: a pool of 1-10 (Tortoise's default is 1-5) that
    releases connections cheaply (app/postgres_engine.py). SQLite (WAL, Tortoise's default): write
    transactions begin IMMEDIATE (app/sqlite_engine.py) and wait up to 5 s for another process's
    write to finish (`busy_timeout`, a pragma Tortoise sets from the URL) instead of failing at once;
    past that the request answers SERVICE_UNAVAILABLE (schema/extensions.py)."""
    if url.startswith("sqlite://"):
        if "busy_timeout" not in url and ":memory:" not in url:
            url += ("&" if "?" in url else "?") + f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}"
        config = expand_db_url(url)
        config["engine"] = "app.sqlite_engine"  # write transactions BEGIN IMMEDIATE: they queue
        return config
    if not url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return url
    if "maxsize" not in url:
        url += ("&" if "?" in url else "?") + "minsize=1&maxsize=10"
    config = expand_db_url(url)
    config["engine"] = "app.postgres_engine"  # asyncpg's pool, releasing without a task
    return config


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite://") and ":memory:" not in url:
        path = Path(url.removeprefix("sqlite://"))
        path.parent.mkdir(parents=True, exist_ok=True)


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The one Tortoise config: the server, the CLI, migrations and tests all use it."""
    _ensure_sqlite_dir(database_url)
    return {
        "connections": {"default": _connection(database_url)},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "migrations": "models.migrations",
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


class MigrationError(Exception):
    """The database's migration history does not lead to the current schema (said in one line)."""


async def migrate(database_url: str) -> None:
    """Bring the database to the current schema (idempotent), then close what it opened."""
    config = tortoise_config(database_url)
    try:
        await _adopt_squashed(config)
        await run_migrations(config=config)
    finally:
        await Tortoise.close_connections()


async def _adopt_squashed(config: dict[str, Any]) -> None:
    """Record a squashed migration as applied on a database that ran every migration it `replaces`
    (so its tables are not built again), and refuse one that ran only some: the missing steps are
    no longer on disk, and building the rest from the squash would fail halfway. Tortoise 1.1.9
    loads `replaces` but never acts on it; this is Django's rule for it. The replaced migrations'
    rows go once the squash's is written, so the history reads as if the squash had always been
    there (a later downgrade of the squash then leaves an empty history, not six stale rows). A new
    database (no migration applied) is left to `run_migrations`, which builds it from the squash."""
    await Tortoise.init(config=config)
    try:
        recorder = MigrationRecorder(connections.get("default"))
        applied = set(await recorder.applied_migrations())
        loader = MigrationLoader(config["apps"], recorder)
        loader.load_disk()
        for key, migration in sorted(loader.disk_migrations.items(), key=lambda item: item[0].name):
            replaced = [MigrationKey(app_label=app, name=name) for app, name in migration.replaces]
            ran = [r for r in replaced if r in applied]
            if not ran:
                continue
            missing = [r.name for r in replaced if r not in applied]
            if missing and key not in applied:
                raise MigrationError(
                    f"this database ran only part of {key.name}: {', '.join(missing)} "
                    f"{'is' if len(missing) == 1 else 'are'} missing and no longer shipped; "
                    "migrate it with an earlier Tessera release first"
                )
            if key not in applied:
                await recorder.record_applied(key.app_label, key.name)
            for old in ran:  # written first, removed after: a crash in between leaves both, still adopted
                await recorder.record_unapplied(old.app_label, old.name)
    finally:
        await Tortoise.close_connections()


async def close() -> None:
    await Tortoise.close_connections()
