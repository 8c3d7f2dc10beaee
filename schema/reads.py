"""The columns a node's statement reads (docs/architecture.md "Performance rules").

A client row has 52 columns. A page that shows five of them used to read, decode and convert all 52
for each of its 50 rows, most of the CPU of reading it. On the fast path (`compiled_plans`, which the
differential test turns off for its other side) a list or a lookup whose selection needs no more
than a node's `narrow` columns (what a list shows, with its key, sort keys and the columns scoping
and the PHI access log read) reads those alone. What a selection needs:
- a basic field (no resolver, no permission class) its own column;
- a field with a resolver what it declares beside itself, `metadata=reads("location_id")`;
- a field that declares nothing, a fragment or a directive: every column, as before.
The narrow set is one fixed list a node, never the selection's own: a statement's columns (and so
its SQL text, a template of models/prepared.py) take two forms a node, whatever documents callers
send. The rows read never change, only their columns; and a row read in part is Tortoise's partial
instance, which refuses to be saved whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphql import FieldNode
from strawberry.utils.str_converters import to_camel_case
from tortoise.models import Model
from tortoise.queryset import QuerySet

from schema.info import Info
from schema.joins import ToOne, join, joinable, selected_level

READS = "tessera.reads"
# In a declaration: the column named as the field itself (`staff_column`).
OWN_COLUMN = "<own column>"


def reads(*columns: str) -> dict[str, Any]:
    """Field metadata: the columns the field's resolver (and its permission classes) read from the row."""
    return {READS: columns}


@dataclass(frozen=True)
class Node:
    """A GraphQL type backed by a model's rows, and the columns of its narrow read, in one order."""

    type: type
    model: type[Model]
    narrow: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "narrow", tuple(dict.fromkeys(self.narrow)))  # a column once, in order


@cache
def _declared(node: Node) -> dict[str, tuple[str, ...] | None]:
    """Each GraphQL field of the node: the columns it reads, None when it does not say."""
    projection = node.model._meta.fields_db_projection
    found: dict[str, tuple[str, ...] | None] = {}
    for field in node.type.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        name = field.graphql_name or to_camel_case(field.python_name)
        declared = (field.metadata or {}).get(READS)
        if declared is not None:
            found[name] = tuple(field.python_name if column == OWN_COLUMN else column for column in declared)
        elif (
            field.base_resolver is None
            and not field.permission_classes
            and not field.extensions
            and projection.get(field.python_name) == field.python_name
        ):
            found[name] = (field.python_name,)
        else:
            found[name] = None
    return found


def columns(level: list[FieldNode] | None, node: Node) -> tuple[str, ...] | None:
    """The node's narrow columns when they answer `level` (the node's selected fields), else None:
    every column."""
    if level is None:
        return None
    declared = _declared(node)
    narrow = set(node.narrow)
    for field in level:
        name = field.name.value
        if name == "__typename":
            continue
        read = declared.get(name)
        if read is None or not narrow.issuperset(read):
            return None
    return node.narrow


def reading(
    info: Info, path: tuple[str, ...], node: Node, relations: Sequence[ToOne] = ()
) -> Callable[[QuerySet[Any]], QuerySet[Any]]:
    """What makes a statement read what the selection under `path` needs: the joins it allows
    (schema/joins.py) and, on the fast path, only the columns it reads."""
    level = selected_level(info._raw_info.field_nodes, path)
    chosen = joinable(level, relations)
    only = columns(level, node) if info.context.settings.compiled_plans else None

    def read(query: QuerySet[Any]) -> QuerySet[Any]:
        query = join(query, chosen)
        return query.only(*only) if only else query

    return read
