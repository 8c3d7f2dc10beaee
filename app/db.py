"""Database configuration and migrations (the raw-SQL helper is `models.sql`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api import migrate as run_migrations

from models import MODEL_MODULES

APP_LABEL = "models"


def _with_pool(url: str) -> str:
    """PostgreSQL's pool defaults to 1-5 connections in Tortoise: give a worker room to breathe."""
    if url.startswith(("postgres://", "postgresql://", "asyncpg://")) and "maxsize" not in url:
        return url + ("&" if "?" in url else "?") + "minsize=1&maxsize=10"
    return url


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite://") and ":memory:" not in url:
        path = Path(url.removeprefix("sqlite://"))
        path.parent.mkdir(parents=True, exist_ok=True)


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The one Tortoise config: the server, the CLI, migrations and tests all use it."""
    _ensure_sqlite_dir(database_url)
    return {
        "connections": {"default": _with_pool(database_url)},
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
