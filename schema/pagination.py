"""Keyset pagination (docs/architecture.md "API conventions"): the cursor encodes the sort key, never an OFFSET.

`Connection[T]` is named `<T>Connection` in the schema (Strawberry names generics by their type
argument), with `<T>Edge`, `PageInfo` and `totalCount` (rows in the viewer's scope).
`keyset_page` runs one statement for the page (it fetches one row more than asked, to know whether
there is a next page), and a count only when the caller selects `totalCount`.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar, cast

import strawberry
from tortoise.exceptions import ValidationError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from models import prepared
from permissions.errors import bad_input

T = TypeVar("T")
MAX_PAGE = 100
# A cursor holds a row's sort keys: the longest (a 200-character name, every character escaped in
# JSON, and an id) encode to about 3.3 KB. Anything longer is refused before it is decoded (JSON
# nested thousands deep is also refused when short: Python's decoder recurses on it).
MAX_CURSOR = 8192


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    # The scoped query behind the page: counted only when a caller asks for totalCount.
    count_query: strawberry.Private[QuerySet | None] = None
    known_total: strawberry.Private[int | None] = None

    @strawberry.field(description="Rows in the viewer's scope (all pages).")
    async def total_count(self) -> int:
        if self.known_total is None:
            if self.count_query is None:
                self.known_total = len(self.edges)
            else:
                try:
                    self.known_total = await self.count_query.count()
                except ValidationError:
                    self.known_total = 0  # see keyset_page: a filter value no column can hold
        return self.known_total


def cursor_text(value: Any) -> str:
    """A text column's value from a cursor: a string, and one PostgreSQL can compare (no NUL)."""
    if not isinstance(value, str) or "\x00" in value:
        raise ValueError("not a text sort value")
    value.encode()  # a lone surrogate (legal JSON, "\ud800") no driver can send: a ValueError
    return value


def cursor_id(value: Any) -> str:
    """An `id` column's value from a cursor: a UUID (canonical text, as the rows store it)."""
    if not isinstance(value, str):
        raise ValueError("not an id")
    return str(uuid.UUID(value))


def cursor_datetime(value: Any) -> datetime:
    """A datetime column's value from a cursor: ISO 8601 with an offset, in UTC (encode_cursor
    writes aware datetimes; a naive one would meet aware ones, an extreme offset would overflow)."""
    if not isinstance(value, str):
        raise ValueError("not a datetime")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class SortKey:
    """One column of the sort order; `parse` turns the cursor's JSON value back into a filter value.

    A cursor comes back from the caller, so it is input like any other: by default `id` must be a
    UUID and any other column a string (`cursor_text`). A value of the wrong type would reach the
    database as a comparison PostgreSQL refuses (an integer against a varchar, a NUL in text).
    """

    field: str
    descending: bool = False
    parse: Callable[[Any], Any] | None = None

    def read(self, value: Any) -> Any:
        if self.parse is not None:
            return self.parse(value)
        return cursor_id(value) if self.field == "id" else cursor_text(value)


def datetime_key(field: str, descending: bool = False) -> SortKey:
    return SortKey(field, descending, cursor_datetime)


def check_first(first: int | None) -> int:
    """`first` within 0..100, else a top-level BAD_USER_INPUT."""
    if first is None:
        return 50
    if first < 0 or first > MAX_PAGE:
        raise bad_input(f"`first` must be between 0 and {MAX_PAGE}.")
    return first


def check_page(first: int | None, after: str | None, keys: Sequence[SortKey]) -> int:
    """The page size, with `first` and `after` checked before any work: a bad cursor errs here, not
    inside a DataLoader's batch (where it would fail every page) or after a query has run."""
    limit = check_first(first)
    if after:
        decode_cursor(after, keys)
    return limit


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


# One encoder for every cursor: `json.dumps` with separators builds a new one a call.
_CURSOR_JSON = json.JSONEncoder(separators=(",", ":"))


def encode_cursor(row: Any, keys: Sequence[SortKey]) -> str:
    values = [_plain(getattr(row, k.field)) for k in keys]
    return base64.urlsafe_b64encode(_CURSOR_JSON.encode(values).encode()).decode()


class KeysetEdge:
    """An edge of a keyset page whose cursor is worked out only when read (a page's JSON and base64
    per row cost more than the rest of a plain row's fields, and most pages ask only for
    `pageInfo.endCursor`). It answers as an `Edge`: the executors read its attributes."""

    __slots__ = ("_cursor", "keys", "node")

    def __init__(self, node: Any, keys: Sequence[SortKey]) -> None:
        self.node = node
        self.keys = keys
        self._cursor: str | None = None

    @property
    def cursor(self) -> str:
        if self._cursor is None:
            self._cursor = encode_cursor(self.node, self.keys)
        return self._cursor


class KeysetPageInfo:
    """A page's `PageInfo` whose end cursor is the last edge's, worked out only when read (most
    lists are read a page at a time without it). It answers as a `PageInfo`, as `KeysetEdge` does
    as an `Edge`."""

    __slots__ = ("_last", "has_next_page")

    def __init__(self, edges: Sequence[Any], has_next_page: bool) -> None:
        self.has_next_page = has_next_page
        self._last = edges[-1] if edges else None

    @property
    def end_cursor(self) -> str | None:
        return self._last.cursor if self._last is not None else None


def edges_of(rows: Sequence[Any], keys: Sequence[SortKey]) -> list[Any]:
    """The edges of a page of `rows` sorted by `keys`."""
    return [KeysetEdge(row, keys) for row in rows]


def page_info(edges: Sequence[Any], has_next_page: bool) -> PageInfo:
    """The `PageInfo` of a page of `edges` (`KeysetPageInfo`)."""
    return cast(PageInfo, KeysetPageInfo(edges, has_next_page))


def decode_cursor(cursor: str, keys: Sequence[SortKey]) -> list[Any]:
    """The sort values in a cursor; a malformed one is a BAD_USER_INPUT, never a 500."""
    try:
        if len(cursor) > MAX_CURSOR:
            raise ValueError("longer than any cursor a list gives out")
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError
        return [k.read(v) for k, v in zip(keys, values, strict=True)]
    except (ValueError, TypeError, OverflowError, RecursionError):  # JSON and Unicode errors are ValueErrors
        raise bad_input("`after` is not a cursor this list gave out.") from None


def after_q(keys: Sequence[SortKey], values: Sequence[Any]) -> Q:
    """Rows strictly after `values` in the order of `keys`: (a > x) OR (a = x AND b > y) OR ..."""
    clauses = []
    for i, key in enumerate(keys):
        equal = {keys[j].field: values[j] for j in range(i)}
        op = "lt" if key.descending else "gt"
        clauses.append(Q(**equal, **{f"{key.field}__{op}": values[i]}))
    return Q(*clauses, join_type=Q.OR)


def order_by(keys: Sequence[SortKey]) -> list[str]:
    return [("-" if k.descending else "") + k.field for k in keys]


async def keyset_page(
    query: QuerySet,
    keys: Sequence[SortKey],
    first: int | None,
    after: str | None,
    rows: QuerySet | None = None,
) -> Connection[Any]:
    """One page of `query` (already scoped to the viewer) as a Connection of model rows; `rows`, the
    same query reading other columns (joined ones, or only those the selection reads: schema/reads.py),
    reads the page when given (never the count)."""
    limit = check_first(first)
    page_query = query if rows is None else rows
    if after:
        page_query = page_query.filter(after_q(keys, decode_cursor(after, keys)))
    try:
        rows = await prepared.execute(page_query.order_by(*order_by(keys)).limit(limit + 1)) if limit else []
    except ValidationError:
        # Tortoise checks a filter value against its column before sending any SQL (a 10,000
        # character username, say): a value the column cannot hold matches no row. One answer for
        # every list, rather than a length check per filter field.
        return Connection(edges=[], page_info=PageInfo(has_next_page=False, end_cursor=None), known_total=0)
    has_next = len(rows) > limit
    rows = list(rows)[:limit]
    edges = edges_of(rows, keys)
    return Connection(
        edges=edges,
        page_info=page_info(edges, has_next),
        count_query=query,
    )
