"""Per-request DataLoaders: every relation a type exposes is batched, so a page of N objects costs
a number of statements bounded by the query's depth, never by N (docs/architecture.md "Performance rules").

Each domain module defines its batch functions beside its types; `ctx.loaders.of(fn)` gives the
request's one DataLoader for a function. Loaders return raw related rows; the field using them
applies `permissions.scoping`, so a nested path never shows what a root query would hide. They are
built fresh for every request: a cache must never outlive a revoked grant.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.queryset import ValuesQuery

BatchFn = Callable[[list[Any]], Awaitable[Sequence[Any]]]


def by_id(rows: Sequence[Any], keys: Sequence[Any], attr: str = "id") -> list[Any]:
    """Order `rows` as `keys` (None where missing): the shape a batch function returns."""
    found = {str(getattr(r, attr)): r for r in rows}
    return [found.get(str(k)) for k in keys]


def grouped(pairs: Sequence[tuple[Any, Any]], keys: Sequence[Any]) -> list[list[Any]]:
    """[(key, row), ...] as one list of rows per key, in key order."""
    groups: dict[str, list[Any]] = {}
    for key, row in pairs:
        groups.setdefault(str(key), []).append(row)
    return [groups.get(str(k), []) for k in keys]


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


class Loaders:
    def __init__(self) -> None:
        self._loaders: dict[Hashable, DataLoader] = {}

    def of(self, batch: BatchFn) -> DataLoader:
        """The request's DataLoader for `batch` (keys are stringified ids)."""
        loader = self._loaders.get(batch)
        if loader is None:
            loader = self._loaders[batch] = DataLoader(batch)
        return loader
