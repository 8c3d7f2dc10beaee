"""The portable raw-SQL helper, for the few hot paths where one hand-written statement replaces
several ORM ones (a request's grants, the login lookup, nested pages): everything else goes
through the ORM. It lives with the models so that data flows one way (schema → resolvers → models)."""

from __future__ import annotations

from typing import Any

from tortoise import connections


def dialect() -> str:
    """'postgres' or 'sqlite': the few raw statements that differ ask this."""
    return str(connections.get("default").capabilities.dialect)


async def fetch_all(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """Run a raw SELECT written with `?` placeholders on either backend (inside the caller's
    transaction, if any)."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        parts = sql.split("?")
        sql = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
    _, rows = await conn.execute_query(sql, params)
    return [dict(row) for row in rows]


def flag(value: object) -> bool:
    """A boolean selected as text ('1'/'0', 't'/'f', 'true'/'false') by a portable statement."""
    return str(value).lower() in {"1", "true", "t"}
