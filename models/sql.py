"""The portable raw-SQL helper, for the few hot paths where one hand-written statement replaces
several ORM ones (a request's grants, the login lookup, nested pages): everything else goes
through the ORM. It lives with the models so that data flows one way (schema → resolvers → models)."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from tortoise import connections
from tortoise.models import Model
from tortoise.queryset import ValuesQuery

from models import prepared

M = TypeVar("M", bound=Model)


def dialect() -> str:
    """'postgres' or 'sqlite': the few raw statements that differ ask this."""
    return str(connections.get("default").capabilities.dialect)


@lru_cache(maxsize=256)
def _native(sql: str, dialect: str) -> str:
    """`?` placeholders as the backend writes them (`$1, $2, ...` on PostgreSQL): once per statement
    text (a request's session statement is the same text every time)."""
    if dialect != "postgres":
        return sql
    parts = sql.split("?")
    return parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))


async def fetch_all(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """Run a raw SELECT written with `?` placeholders on either backend (inside the caller's
    transaction, if any)."""
    conn = connections.get("default")
    _, rows = await conn.execute_query(_native(sql, conn.capabilities.dialect), params)
    return [dict(row) for row in rows]


async def write_returning(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """Run a raw UPDATE/INSERT ... RETURNING written with `?` placeholders; return its rows.
    `execute_query_dict`, because Tortoise's `execute_query` on asyncpg drops the rows of a write."""
    conn = connections.get("default")
    return list(await conn.execute_query_dict(_native(sql, conn.capabilities.dialect), params))


async def first_per_group(
    query: ValuesQuery[Any], partition: str, order: Sequence[str], limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` rows of `query` for each value of its column `partition`, in `order`: one
    statement for many parents' pages. A window over the very SQL Tortoise compiles for `query`, so
    its filters (the scoping row filter included) are the ORM's own, on either backend. `query`'s
    column aliases must be plain lower-case names."""
    query._choose_db_if_not_chosen()
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    ranked = (
        f"SELECT * FROM (SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.{partition} ORDER BY "
        f"{', '.join(f't.{column}' for column in order)}) AS rn FROM ({sql}) t) s "
        f"WHERE s.rn <= {int(limit)} ORDER BY s.{partition}, s.rn"
    )
    _, rows = await query._db.execute_query(ranked, params)
    return [dict(row) for row in rows]


def pool_in_use() -> int | None:
    """Connections of this process's PostgreSQL pool in use now; None without a pool (SQLite, or no
    database opened in this process)."""
    try:
        pool = getattr(connections.get("default"), "_pool", None)
    except Exception:
        return None
    return None if pool is None else int(pool.get_size() - pool.get_idle_size())


def flag(value: object) -> bool:
    """A boolean selected as text ('1'/'0', 't'/'f', 'true'/'false') by a portable statement."""
    return str(value).lower() in {"1", "true", "t"}


def select_list(model: type[Model], alias: str, prefix: str) -> str:
    """Every column of `model`'s table under `alias`, each renamed `<prefix><column>`: the select list
    of a raw statement that brings back whole rows of several tables at once."""
    return ", ".join(f"{alias}.{column} AS {prefix}{column}" for column in model._meta.fields_db_projection.values())


def from_row(model: type[M], row: dict[str, Any], prefix: str) -> M:
    """The model instance for the columns `select_list(model, _, prefix)` selected, converted as the
    ORM converts its own rows (`_init_from_db`: SQLite's text datetimes, integer booleans, ...)."""
    return prepared.instance(model, row, prefix)


async def insert(model: type[Model], values: dict[str, Any]) -> None:
    """One row of `model`, written as `Model.create` writes it but without building the model object:
    each value converted as the model's `__init__` converts it (`to_python_value`: a datetime to
    UTC, a UUID's text parsed) and refused as it refuses it (null for a non-null field), checked
    by its field's validators and written by Tortoise's own insert statement and `to_db_value`; a
    field left out takes its Python default. For an append-only row nobody reads back in the request
    (the access log's event: a sixth of the write's CPU through `create`). A field left out that
    `create` would fill another way (set at save, a database default, an async default) is refused."""
    conn = connections.get("default")
    executor = conn.executor_class(model=model, db=conn)
    fields = model._meta.fields_map
    if unknown := values.keys() - fields.keys():
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}.")
    row = []
    for name in executor.regular_columns:
        field = fields[name]
        if name in values:
            value = values[name]
            if value is None and not field.null:
                raise ValueError(f"{name} is non nullable field, but null was passed")
            value = field.to_python_value(value)
        elif (
            getattr(field, "auto_now", False)
            or getattr(field, "auto_now_add", False)
            or field.has_db_default()
            or inspect.iscoroutinefunction(field.default)
        ):
            raise TypeError(f"{model.__name__}.{name} is filled when an instance is saved: give it.")
        else:
            value = field.default() if callable(field.default) else copy.deepcopy(field.default)
        field.validate(value)
        row.append(field.to_db_value(value, model))  # the class, as for a filter's value: no instance
    await conn.execute_insert(executor.insert_query, row)
