"""To-one relations a page reads in its own statement (docs/architecture.md "Performance rules").

A page of clients shows each client's location and primary provider. Through DataLoaders that is two
more statements, two more ORM queries built, and a model object per related row. When the selection
asks a relation for nothing but plain columns (`location { name }`), the page's own statement joins
those columns instead (`annotate`, one LEFT JOIN each) and the relation field answers from the row.
Any other selection of the relation (a field with a resolver, a fragment, a directive) is answered
through the DataLoader as before: the join is an optimization of what is selected, never a second
way to decide what may be seen. The relation's visibility does not change: a client's location and
primary provider show through any client the viewer may see.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import SimpleNamespace
from typing import Any

from graphql import FieldNode
from tortoise.expressions import F
from tortoise.queryset import QuerySet


@dataclass(frozen=True)
class ToOne:
    """A node's to-one relation `field` (its GraphQL name), the model's `relation` and its foreign key
    column `key`, and the plain columns a join may answer (GraphQL name -> column)."""

    field: str
    relation: str
    key: str
    columns: dict[str, str]

    def alias(self, column: str) -> str:
        return f"joined_{self.relation}_{column}"

    @cached_property
    def aliased(self) -> tuple[tuple[str, str], ...]:
        """(column, alias) pairs: read once a row, so worked out once."""
        return tuple((column, self.alias(column)) for column in self.columns.values())


def selected_level(selections: Sequence[Any], path: Sequence[str]) -> list[FieldNode] | None:
    """The fields selected under `path` (from the root field's nodes down to the node), or None when a
    fragment or a directive is among them on the way (the selection is then not read apart).

    Read from the document's own nodes: what is asked of them (names, whether a field has arguments or
    directives, fragments) is the same for every request of a document, while Strawberry's
    `selected_fields` would convert the whole selection, arguments and variables included, on each."""
    level = _fields(selections)
    for name in path:
        if level is None:
            return None
        below: list[Any] = []
        for field in level:
            if field.name.value == name and field.selection_set is not None:
                below.extend(field.selection_set.selections)
        level = _fields(below)
    return level


def _fields(selections: Sequence[Any]) -> list[FieldNode] | None:
    fields = []
    for selection in selections:
        if not isinstance(selection, FieldNode) or selection.directives:
            return None
        fields.append(selection)
    return fields


def joinable(level: list[FieldNode] | None, relations: Sequence[ToOne]) -> list[tuple[ToOne, list[str]]]:
    """The relations selected in `level` (the node's selected fields, `selected_level`) with
    nothing but columns they can join, each with the columns selected (its first column always: it
    marks the relation as joined, `joined`)."""
    if level is None:
        return []
    chosen = []
    for relation in relations:
        uses = [f for f in level if f.name.value == relation.field]
        allowed = {*relation.columns, "id", "__typename"}
        inner = [selected_level(use.selection_set.selections if use.selection_set else (), ()) for use in uses]
        if uses and all(
            not use.arguments and names is not None and {f.name.value for f in names} <= allowed
            for use, names in zip(uses, inner, strict=True)
        ):
            asked = {f.name.value for names in inner for f in names or ()}
            first = next(iter(relation.columns))
            chosen.append((relation, [c for name, c in relation.columns.items() if name in asked or name == first]))
    return chosen


def join(query: QuerySet, relations: Sequence[tuple[ToOne, list[str]]]) -> QuerySet:
    """`query` with the chosen columns of `relations` read in the same statement."""
    if not relations:
        return query
    return query.annotate(
        **{r.alias(column): F(f"{r.relation}__{column}") for r, columns in relations for column in columns}
    )


JOINED = "tessera_joined"


def answered_by(relation: ToOne) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A relation field's resolver, answering `joined(row, relation)` for a row read with the join and
    calling the decorated function (which loads the relation) only for the others. The function it
    makes carries the relation, so the compiled plan (schema/compiled.py) answers joined rows with
    the same `joined` without building a resolve info for each: on a page of 50 clients, 100 fewer.
    The joined answer has this one home, for both paths."""

    def decorate(load: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(load)
        def resolve(row: Any, *args: Any, **kwargs: Any) -> Any:
            answer = joined(row, relation)
            return answer if answer is not ... else load(row, *args, **kwargs)

        setattr(resolve, JOINED, relation)
        return resolve

    return decorate


class JoinedRow(SimpleNamespace):
    """A related row as `join` read it: the relation's key and the columns asked for. A value, never
    awaited (schema/compiled.py `is_awaitable` takes it as such without asking)."""


def joined(row: Any, relation: ToOne) -> Any:
    """The related row as read by `join` (a plain object with the columns the selection asked for),
    None when the row has no related row, or `...` when the query did not join this relation (load
    it instead)."""
    values = row.__dict__
    aliased = relation.aliased
    if aliased[0][1] not in values:
        return ...
    key = values.get(relation.key)
    if key is None:
        return None
    return JoinedRow(id=key, **{column: values[alias] for column, alias in aliased if alias in values})
