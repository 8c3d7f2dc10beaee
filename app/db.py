"""Database configuration, migrations, and the portable raw-SQL helper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
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


def dialect() -> str:
    """'postgres' or 'sqlite': the few raw statements that differ ask this."""
    return connections.get("default").capabilities.dialect


async def fetch_all(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """Run a raw SELECT written with `?` placeholders on either backend.

    Used only where one hand-written statement replaces several ORM ones on a hot path (the
    per-request grants, the login lookup); everything else goes through the ORM.
    """
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        parts = sql.split("?")
        sql = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
    _, rows = await conn.execute_query(sql, params)
    return [dict(row) for row in rows]


async def close() -> None:
    await Tortoise.close_connections()
