"""Input objects built from their GraphQL value with each field's type resolved once.

For every input object of every request, Strawberry resolves each field's type annotation and its
GraphQL name again before converting the field's value: 68 µs for the users filter (nine fields),
about 5% of a page of staff. Both are fixed once the schema is built. `install` gives each input
type a `from_input` (Strawberry's hook for building an input's value) that looks them up once and
then does what Strawberry does: every field the value holds converted by Strawberry's own
`convert_argument`, fields without a default None unless given, the class called with the result.
`tests/unit/test_arguments.py` builds every input type of the schema both ways.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import strawberry
from strawberry.relay.types import GlobalID
from strawberry.types.arguments import InputContext, _is_leaf_type, convert_argument
from strawberry.types.base import StrawberryMaybe, StrawberryObjectDefinition, StrawberryOptional
from strawberry.types.enum import has_enum_definition

Builder = Callable[[type, Mapping[str, Any], InputContext], Any]


@dataclasses.dataclass(frozen=True)
class _Fields:
    """An input type's fields: (GraphQL name, Python name, resolved type or None where the value is
    taken as it is), and the Python names that are None unless given (no default of their own)."""

    fields: tuple[tuple[str, str, Any], ...]
    nulls: tuple[str, ...]


def _as_is(field_type: Any, context: InputContext) -> bool:
    """Whether `convert_argument` returns a value of this type unchanged: a scalar or an enum
    (graphql-core has already parsed both), or either made optional, but not a `Maybe` (wrapped in
    `Some`) nor a GlobalID (decoded)."""
    if isinstance(field_type, StrawberryMaybe):
        return False
    if isinstance(field_type, StrawberryOptional):
        field_type = field_type.of_type
    if field_type is GlobalID:
        return False
    return _is_leaf_type(field_type, context.scalar_registry) or has_enum_definition(field_type)


def _fields(definition: StrawberryObjectDefinition, context: InputContext) -> _Fields:
    converter = context.config.name_converter
    fields = []
    for field in definition.fields:
        field_type = field.resolve_type(type_definition=definition)
        fields.append(
            (converter.from_field(field), field.python_name, None if _as_is(field_type, context) else field_type)
        )
    return _Fields(
        fields=tuple(fields),
        nulls=tuple(
            field.python_name
            for field in definition.fields
            if field.default_value is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        ),
    )


def _key(context: InputContext) -> tuple[Any, Any]:
    return context.config, context.scalar_registry


def builder(definition: StrawberryObjectDefinition) -> Builder:
    """`definition`'s `from_input`: its fields looked up at the first call, then reused. The GraphQL
    names and scalars depend on the schema's config and scalar registry: a class shared by schemas
    configured apart keeps a lookup for each."""
    found: list[tuple[Any, Any, _Fields]] = []

    def build(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        fields = next((f for config, registry, f in found if (config, registry) == _key(context)), None)
        if fields is None:
            fields = _fields(definition, context)
            found.append((*_key(context), fields))
        kwargs: dict[str, Any] = dict.fromkeys(fields.nulls)
        for graphql_name, python_name, field_type in fields.fields:
            if graphql_name not in value:
                continue
            if field_type is None:
                kwargs[python_name] = value[graphql_name]
            else:
                kwargs[python_name] = convert_argument(
                    value[graphql_name],
                    field_type,
                    context.scalar_registry,
                    context.config,
                    context.info,
                    path=(*context.path, graphql_name),
                )
        return cls(**kwargs)

    return build


def install(schema: strawberry.Schema) -> None:
    """Every input type of `schema` without a `from_input` of its own gets `builder`'s; but not one with
    a `Maybe` field: Strawberry's validation refuses a null sent for one before anything runs, and
    skips the types that build their own value (their `from_input` reports it, during execution)."""
    for graphql_type in schema.schema_converter.type_map.values():
        definition = graphql_type.definition
        if (
            isinstance(definition, StrawberryObjectDefinition)
            and definition.is_input
            and definition.from_input is None
            and not any(isinstance(field.type, StrawberryMaybe) for field in definition.fields)
        ):
            definition.from_input = builder(definition)
