"""schema/hooks.py: each extension's hooks wrapped once a class run exactly as Strawberry runs them:
the same order, the same enters and exits, the same exceptions before and after `yield`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from schema.api import TesseraSchema, build_schema
from schema.hooks import ExtensionsRunner

EVENTS: list[str] = []
FAIL: set[str] = set()


class First(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        EVENTS.append("first operation in")
        yield
        EVENTS.append("first operation out")

    def on_validate(self) -> Iterator[None]:
        EVENTS.append("first validate in")
        if "before" in FAIL:
            raise ValueError("before yield")
        yield
        EVENTS.append("first validate out")

    async def on_execute(self) -> AsyncIterator[None]:
        EVENTS.append("first execute in")
        try:
            yield
        except Exception as error:
            EVENTS.append(f"first saw {error}")
            raise
        EVENTS.append("first execute out")
        if "after" in FAIL:
            raise ValueError("after yield")


class Second(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        EVENTS.append("second operation in")
        yield
        EVENTS.append("second operation out")

    def on_parse(self) -> None:  # a plain function: Strawberry's own wrapping
        EVENTS.append("second parse")

    async def on_execute(self) -> AsyncIterator[None]:
        EVENTS.append("second execute in")
        yield
        EVENTS.append("second execute out")


def _hello() -> str:
    EVENTS.append("resolve")
    return "world"


@strawberry.type
class Query:
    hello: str = strawberry.field(resolver=_hello)


class Plain(strawberry.Schema):
    """Strawberry's own runner."""


class Ours(strawberry.Schema):
    """The same schema but for the runner (TesseraSchema also masks errors, which is not compared here)."""

    create_extensions_runner = TesseraSchema.create_extensions_runner


def _run(schema_class: type[strawberry.Schema], fail: set[str]) -> tuple[list[str], Any]:
    EVENTS.clear()
    FAIL.clear()
    FAIL.update(fail)
    schema = schema_class(query=Query, extensions=[First, Second])
    try:
        result = asyncio.run(schema.execute("{ hello }"))
        answer: Any = (result.data, [e.message for e in result.errors or ()])
    except Exception as error:
        answer = repr(error)
    return list(EVENTS), answer


@pytest.mark.parametrize("fail", [set(), {"before"}, {"after"}], ids=["plain", "before-yield", "after-yield"])
def test_hooks_run_as_strawberry_runs_them(fail: set[str]) -> None:
    ours = _run(Ours, fail)
    assert ours == _run(Plain, fail)
    assert ours[0][:3] == ["first operation in", "second operation in", "second parse"]  # the hooks did run


def test_the_schema_uses_the_runner() -> None:
    schema = build_schema()
    assert isinstance(schema.create_extensions_runner(None, []), ExtensionsRunner)  # type: ignore[arg-type]
