"""schema/arguments.py: every input type of the schema is built exactly as Strawberry builds it."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from strawberry import relay
from strawberry.types.arguments import convert_argument
from strawberry.types.base import StrawberryObjectDefinition

from schema import arguments
from schema.api import build_schema

SCHEMA = build_schema()
INPUTS = sorted(
    (t for t in SCHEMA.schema_converter.type_map.values() if getattr(t.definition, "is_input", False)),
    key=lambda t: t.definition.name,
)


def _value(graphql_type: GraphQLInputType, name: str, depth: int = 0) -> Any:
    """A value of `graphql_type` as graphql-core hands it over (scalars and enums already parsed)."""
    if isinstance(graphql_type, GraphQLNonNull):
        return _value(graphql_type.of_type, name, depth)
    if isinstance(graphql_type, GraphQLList):
        return [_value(graphql_type.of_type, name, depth), _value(graphql_type.of_type, name, depth)]
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values.values())).value
    if isinstance(graphql_type, GraphQLInputObjectType):
        return _full(graphql_type, depth + 1)
    assert isinstance(graphql_type, GraphQLScalarType)
    return {"Boolean": True, "Int": 7, "Float": 1.5}.get(graphql_type.name, f"{name}-value")


def _full(graphql_type: GraphQLInputObjectType, depth: int = 0) -> dict[str, Any]:
    return {name: _value(field.type, name, depth) for name, field in graphql_type.fields.items()}


def _values(graphql_type: GraphQLInputObjectType) -> list[dict[str, Any]]:
    """Every field given; only the required ones; every nullable one an explicit null."""
    full = _full(graphql_type)
    required = {n: v for n, v in full.items() if isinstance(graphql_type.fields[n].type, GraphQLNonNull)}
    nulls = {n: None for n in full if n not in required} | required
    return [full, required, nulls]


def _strawberry(definition: StrawberryObjectDefinition, value: dict[str, Any]) -> Any:
    """Strawberry's own conversion: the hook taken off for the call (and off nested inputs too)."""
    saved = {}
    for t in INPUTS:
        saved[t.definition.name] = t.definition.from_input
        t.definition.from_input = None
    try:
        return convert_argument(value, definition.origin, SCHEMA.schema_converter.scalar_registry, SCHEMA.config)
    finally:
        for t in INPUTS:
            t.definition.from_input = saved[t.definition.name]


@pytest.mark.parametrize("graphql_type", INPUTS, ids=lambda t: t.definition.name)
def test_an_input_is_built_as_strawberry_builds_it(graphql_type: Any) -> None:
    definition = graphql_type.definition
    assert definition.from_input is not None
    core = SCHEMA._schema.type_map[definition.name]
    assert isinstance(core, GraphQLInputObjectType)
    for value in _values(core):
        ours = convert_argument(value, definition.origin, SCHEMA.schema_converter.scalar_registry, SCHEMA.config)
        assert ours == _strawberry(definition, value)
        assert type(ours) is definition.origin


def test_every_input_type_is_covered() -> None:
    assert len(INPUTS) > 20


@strawberry.input
class _Inner:
    word: str


@strawberry.input
class _Probe:
    """What this schema's inputs do not use, built both ways too: a nullable field without a default,
    a GlobalID, a list of inputs."""

    note: str | None
    global_id: relay.GlobalID | None = None
    inners: list[_Inner] | None = None


@strawberry.input
class _WithMaybe:
    maybe: strawberry.Maybe[str]


RAN: list[str] = []


@strawberry.type
class _Query:
    @strawberry.field
    def probe(self, value: _Probe) -> str:
        return "ok"


@strawberry.type
class _Mutation:
    @strawberry.mutation
    def first(self) -> str:
        RAN.append("first")
        return "ok"

    @strawberry.mutation
    def second(self, value: _WithMaybe) -> str:
        RAN.append("second")
        return "ok"


def _probe_schema() -> strawberry.Schema:
    probe = strawberry.Schema(query=_Query, mutation=_Mutation)
    arguments.install(probe)
    return probe


def test_what_the_schema_does_not_use_is_built_as_strawberry_builds_it() -> None:
    probe = _probe_schema()
    definition = _Probe.__strawberry_definition__  # type: ignore[attr-defined]
    inner = _Inner.__strawberry_definition__  # type: ignore[attr-defined]
    registry = probe.schema_converter.scalar_registry
    global_id = relay.to_base64("Client", "1")
    for value in (
        {},
        {"note": "n", "globalId": global_id, "inners": [{"word": "w"}, {"word": "v"}]},
        {"note": None, "inners": None},
    ):
        ours = convert_argument(value, _Probe, registry, probe.config)
        hooks = (definition.from_input, inner.from_input)
        definition.from_input = inner.from_input = None
        try:
            theirs = convert_argument(value, _Probe, registry, probe.config)
        finally:
            definition.from_input, inner.from_input = hooks
        assert ours == theirs


def test_an_input_with_a_maybe_field_keeps_strawberrys_null_check() -> None:
    """Strawberry refuses a null sent for a `Maybe` field at validation, before any field runs, but
    not for a type that builds its own value: such a type is left as Strawberry builds it."""
    probe = _probe_schema()
    assert _WithMaybe.__strawberry_definition__.from_input is None  # type: ignore[attr-defined]
    RAN.clear()
    result = probe.execute_sync("mutation { first second(value: {maybe: null}) }")
    assert result.errors and result.data is None
    assert RAN == []
