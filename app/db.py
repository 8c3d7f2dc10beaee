"""Database configuration and migrations (the raw-SQL helper is `models.sql`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

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


async def migrate(database_url: str) -> None:
    """Bring the database to the current schema (idempotent), then close what it opened."""
    try:
        await run_migrations(config=tortoise_config(database_url))
    finally:
        await Tortoise.close_connections()


async def close() -> None:
    await Tortoise.close_connections()
