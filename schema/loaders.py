"""Per-request DataLoaders: every relation a type exposes is batched, so a page of N objects costs
a number of statements bounded by the query's depth, never by N (docs/architecture.md "Performance rules").

Each domain module defines its batch functions beside its types; `ctx.loaders.of(fn)` gives the
request's one DataLoader for a function. Loaders return raw related rows; the field using them
applies `permissions.scoping`, so a nested path never shows what a root query would hide. They are
built fresh for every request: a cache must never outlive a revoked grant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


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
