"""The compiled plans' executor (schema/compiled.py) against graphql-core's on the cases the matrix
world never produces: null propagation, errors under a nulled position, awaitable attribute values
and list items, and a permission class on a field without a resolver (which must never be read as
a plain attribute)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import strawberry
from graphql import parse
from strawberry.permission import BasePermission

from schema.api import TesseraSchema
from schema.compiled import Planner


async def _later(value: Any) -> Any:
    await asyncio.sleep(0)
    return value


class Deny(BasePermission):
    message = "Denied."

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Item:
    name: str

    @strawberry.field
    async def bad(self) -> str | None:
        raise ValueError(f"bad {self.name}")

    @strawberry.field
    def must(self) -> str:
        return None if self.name == "x" else self.name  # type: ignore[return-value]

    # Plain sync resolvers, called without Strawberry's wrapper: with the info (its path is each
    # row's own), with the row as `root`; and one a permission class keeps on the wrapper.
    @strawberry.field
    def described(self, info: strawberry.Info) -> str:
        return f"{self.name} at {info.path.prev.key if info.path.prev else None}"

    @strawberry.field
    @staticmethod
    def rooted(root: Item) -> str:
        return root.name.upper()

    @strawberry.field(permission_classes=[Deny])
    def refused(self) -> str | None:
        return self.name


@strawberry.type
class Held:
    later: str


class Holder:
    def __init__(self) -> None:
        self.later = _later("hello")


@strawberry.type
class Secret:
    plain: str
    guarded: str | None = strawberry.field(permission_classes=[Deny])


@strawberry.type
class Row:
    """Basic scalar fields: the plan reads them over a batch without a path per value, and must fall
    back to graphql-core's answer for the whole batch at the first value that is not plain."""

    name: str
    count: int
    note: str | None


class RowSource:
    def __init__(self, name: Any, count: Any, note: Any) -> None:
        self.name, self.count, self.note = name, count, note


class Unreadable:
    name, note = "boom", None

    @property
    def count(self) -> int:
        raise ValueError("unreadable count")


@strawberry.type
class Query:
    @strawberry.field
    def rows(self) -> list[Row | None]:
        return [
            RowSource("a", 1, None),
            RowSource(None, 2, "null where none may be"),
            RowSource("c", "three", None),
            Unreadable(),
            RowSource("e", 5, _later("awaited")),
        ]  # type: ignore[list-item]

    @strawberry.field
    def clean_rows(self) -> list[Row]:
        return [RowSource("a", 1, None), RowSource("b", 2, "n")]  # type: ignore[list-item]

    @strawberry.field
    def item(self) -> Item | None:
        return Item(name="x")

    @strawberry.field
    def items(self) -> list[Item] | None:
        return [Item(name="a"), Item(name="x"), Item(name="b"), Item(name="x")]

    @strawberry.field
    def sure_items(self) -> list[Item | None]:
        return [Item(name="a"), Item(name="x")]

    @strawberry.field
    def futures(self) -> list[str]:
        return [_later("a"), _later("b")]  # type: ignore[list-item]

    @strawberry.field
    def held(self) -> Held | None:
        return Holder()  # type: ignore[return-value]

    @strawberry.field
    def secret(self) -> Secret:
        return Secret(plain="p", guarded="123-45-6789")

    @strawberry.field
    def echo(self, text: str = "default") -> str:
        return text

    @strawberry.field
    def numbers(self) -> list[int | None]:
        return [1, "two", None, 4.5]  # type: ignore[list-item]


DOCUMENTS = [
    "{ item { bad must } }",
    "{ item { must bad } }",
    "{ items { bad must } }",
    "{ items { name must } }",
    "{ sureItems { name must } }",
    "{ futures }",
    "{ held { later } }",
    "{ secret { plain guarded } }",
    '{ a: echo b: echo(text: "given") __typename }',
    "query Named { echo } query Other { item { name } }",
    "{ numbers }",
    "{ rows { name count note } }",
    "{ rows { note count } }",
    "{ cleanRows { name count note } }",
    "{ items { described rooted must } }",
    "{ sureItems { refused described rooted } }",
]


def _schema(planner: Planner | None) -> TesseraSchema:
    schema = TesseraSchema(query=Query)
    schema.planner = planner
    return schema


def _answer(result: Any) -> tuple[Any, list[tuple[str, Any]]]:
    return result.data, sorted((e.message, repr(e.path)) for e in result.errors or ())


@pytest.mark.parametrize("document", DOCUMENTS)
async def test_the_plan_answers_as_graphql_core(document: str) -> None:
    operation = "Named" if "Named" in document else None
    expected = await _schema(None).execute(document, operation_name=operation)
    planner = Planner()
    schema = _schema(planner)
    actual = await schema.execute(document, operation_name=operation)
    assert _answer(actual) == _answer(expected)
    assert planner.get(schema._schema, parse(document), operation) is not None


async def test_a_permission_class_without_a_resolver_is_never_a_plain_read() -> None:
    result = await _schema(Planner()).execute("{ secret { plain guarded } }")
    assert result.data == {"secret": {"plain": "p", "guarded": None}}
    # The refusal is there, at the field (masked: a Strawberry permission error is not one of ours).
    assert [e.path for e in result.errors or ()] == [["secret", "guarded"]]


async def test_plain_sync_resolvers_are_called_without_the_wrapper() -> None:
    """Only where the wrapper would do nothing but build the info: never past a permission class, an
    async resolver, or arguments."""
    planner = Planner()
    schema = _schema(planner)
    found = planner.get(schema._schema, parse("{ items { described rooted must bad refused } } { echo }"), None)
    assert found is None  # two anonymous operations: not planned
    found = planner.get(schema._schema, parse("{ echo items { described rooted must bad refused } }"), None)
    assert found is not None
    echo, items = found.root.fields
    assert echo.direct is None  # takes an argument
    assert items.selection is not None
    direct = {f.key for f in items.selection.fields if f.direct is not None}
    assert direct == {"described", "rooted", "must"}


@strawberry.type
class _Value:
    name: str


@strawberry.type
class _AwaitableValue:
    name: str

    def __await__(self) -> Any:
        return asyncio.sleep(0).__await__()


async def test_values_of_a_page_are_never_awaited_and_awaitables_always_are() -> None:
    """`is_awaitable` remembers value classes (models, enums, Strawberry types, joined rows, slotted
    classes such as a page's edges and the driver's UUID); a coroutine, a future, an old-style
    generator coroutine, a class that can be awaited, or an instance that can be given an
    `__await__` is still asked each time."""
    import types

    from asyncpg.pgproto.pgproto import UUID as DriverUUID

    from models.enums import ActorKind
    from models.organization import Organization
    from schema.compiled import is_awaitable
    from schema.joins import JoinedRow
    from schema.pagination import KeysetEdge

    values = (
        Organization(name="Clinic"),
        ActorKind.USER,
        _Value(name="a"),
        JoinedRow(id=1),
        KeysetEdge(None, ()),
        DriverUUID("00000000-0000-0000-0000-000000000001"),
        "a",
        None,
    )
    for value in values:
        assert not is_awaitable(value)
        assert not is_awaitable(value)  # remembered: the same answer

    @types.coroutine
    def generator_coroutine() -> Any:
        yield

    coroutine = asyncio.sleep(0)
    future = asyncio.get_running_loop().create_future()
    unawaitable, awaitable = types.SimpleNamespace(), types.SimpleNamespace()
    awaitable.__await__ = asyncio.sleep(0).__await__
    assert not is_awaitable(unawaitable)
    for value in (coroutine, future, _AwaitableValue(name="a"), generator_coroutine(), awaitable):
        assert is_awaitable(value)
        assert is_awaitable(value)
    coroutine.close()
    awaitable.__await__.__self__.close()
