"""SQL text built once per query shape (docs/architecture.md "Performance rules").

Tortoise turns a QuerySet into SQL on every await: it resolves each filter and annotation against the
model's fields and has pypika render the text, about a third of the CPU of a request that reads one
client. The text depends only on the query's shape (model, filters and their operators, joins,
ordering, limit), and the values travel as parameters, so `execute` keeps the text of each shape and
on later queries of that shape only gathers their values.

The query is still built by the caller with the ORM, from the same scoping filter (`client_q` and the
like): only the rendering is remembered, never what a filter means. How each value becomes a
parameter is learnt from Tortoise itself: the first query of a shape is rendered again with a
distinct stand-in for every value, and each stand-in is found in the one parameter it became (as is,
as text, or as a LIKE prefix). The template is kept only if it then gives the first query's own
text and parameters exactly as Tortoise does. Enums, booleans and None stay in the shape (Tortoise
may write them into the text). A subquery of a values query is part of its parent's shape. A query
using anything this module does not model (expressions other than a column, select_related,
prefetching, locks, text lookups other than a prefix...) is rendered by Tortoise as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from copy import copy as shallow_copy
from datetime import date, datetime
from enum import Enum
from functools import cache, lru_cache
from typing import Any, NamedTuple, TypeVar, cast
from uuid import UUID

from tortoise.expressions import F, Q, Subquery
from tortoise.fields.data import CharEnumFieldInstance
from tortoise.filters import escape_like
from tortoise.models import Model
from tortoise.queryset import QuerySet, QuerySetSingle, ValuesQuery

M = TypeVar("M", bound=Model)

# Shapes kept: an app runs a bounded set (a few per root field and principal kind).
MAX_SHAPES = 1024
# Lookups whose value Tortoise sends as one parameter a value (`in`: one per item) or as a LIKE prefix
# (`startswith`); every other lookup keeps its value in the shape.
_PARAMETER_LOOKUPS = frozenset({"", "not", "in", "gt", "gte", "lt", "lte", "startswith"})
_LOOKUPS = _PARAMETER_LOOKUPS | {
    "not_in", "range", "isnull", "not_isnull", "contains", "icontains", "istartswith", "endswith", "iendswith",
    "iexact", "search", "year", "quarter", "month", "week", "day", "hour", "minute", "second", "microsecond",
    "posix_regex", "iposix_regex",
}  # fmt: skip
# Values that may become parameters; anything else stays in the shape. (bool is not among them: it
# may be rendered into the text, and `isnull` always is.)
_PARAMETER_TYPES = frozenset({str, int, UUID, date})
_BAKED_TYPES = (bool, type(None), int, UUID, date, list, tuple, Enum)
# Longer text stays in the shape, so that Tortoise still checks it against its column's length.
_MAX_PARAMETER_TEXT = 254

_Form = Callable[[Any], Any]
_FORMS: dict[str, _Form] = {
    "as is": lambda value: value,
    "text": str,
    "prefix": lambda value: f"{escape_like(value)}%",
}


class _Unmodelled(Exception):
    """The query uses something the shape does not cover: Tortoise renders it."""


class _Value(NamedTuple):
    """A filter value that may become a parameter: the model and key it filters, and the lookup."""

    value: Any
    lookup: str
    key: str
    model: type[Model]


class _Template:
    """A shape's SQL and, for each parameter, the filter value it comes from and in what form (or
    the constant Tortoise put there)."""

    __slots__ = ("sql", "sources", "lengths")

    def __init__(self, sql: str, sources: list[tuple[int | None, Any]], lengths: list[int]) -> None:
        self.sql = sql
        self.sources = sources
        self.lengths = lengths  # each value's column length (0: not text), checked as Tortoise checks it

    def fits(self, values: list[_Value]) -> bool:
        """Whether every text value fits its column: one that does not is Tortoise's to refuse."""
        return all(not limit or len(v.value) <= limit for v, limit in zip(values, self.lengths, strict=True))

    def parameters(self, values: list[_Value]) -> list[Any]:
        return [form(values[index].value) if index is not None else form for index, form in self.sources]


_templates: OrderedDict[tuple[Any, ...], _Template | None] = OrderedDict()


def _lookup(key: str) -> str:
    """The lookup of a filter key (`location_id__in` -> `in`; `id`, `primary_provider__user_id` -> ``)."""
    _, _, suffix = key.rpartition("__")
    return suffix if suffix in _LOOKUPS else ""


def _parameter(value: Any) -> bool:
    kind = type(value)
    if kind is str:
        return len(value) <= _MAX_PARAMETER_TEXT
    return kind in _PARAMETER_TYPES or isinstance(value, UUID)  # asyncpg reads its own UUID subclass


def _role(lookup: str, value: Any) -> str:
    """What a filter value is in the SQL: one parameter ("?"), one a list item ("?*"), a subquery
    ("sub"), or part of the text ("=")."""
    kind = type(value)
    if lookup in _PARAMETER_LOOKUPS and lookup != "in" and _parameter(value):
        return "?"
    if lookup == "in" and kind in (list, tuple) and all(_parameter(item) for item in value):
        return "?*"
    if kind is Subquery and isinstance(value.query, ValuesQuery):
        return "sub"
    return "="


def _value_shape(model: type[Model], key: str, value: Any, values: list[_Value]) -> Any:
    """The shape of one filter value; the values that may become parameters are appended to `values`."""
    lookup = _lookup(key)
    kind = type(value)
    role = _role(lookup, value)
    if role == "?":
        values.append(_Value(value, lookup, key, model))
        return ("?", kind)
    if role == "?*":
        values.extend(_Value(item, lookup, key, model) for item in value)
        return ("?*", len(value), tuple(type(item) for item in value))
    if role == "sub":
        return ("sub", _query_shape(value.query, values))
    items = tuple(value) if isinstance(value, list | tuple) else (value,)
    if (
        not all(_bakeable(item) for item in items)
        or kind in (list, tuple)
        and not all(type(item) not in (list, tuple) for item in items)
    ):
        raise _Unmodelled(key)
    return ("=", kind, items)


def _bakeable(value: Any) -> bool:
    """Whether a value may stay in a shape, keyed by itself. Not text a caller typed (a search would
    fill the shapes kept, one each); not a datetime, which equals another of the same instant at
    another UTC offset (a key they would share) while Tortoise writes each as its own text on
    SQLite; and each page of a list sorted by time would be a shape of its own."""
    return type(value) is not str and not isinstance(value, datetime) and isinstance(value, _BAKED_TYPES)


def _q_shape(model: type[Model], q: Q, values: list[_Value]) -> tuple[Any, ...]:
    if type(q) is not Q:
        raise _Unmodelled("a Q subclass")
    filters = tuple((key, _value_shape(model, key, value, values)) for key, value in q.filters.items())
    children = tuple(_q_shape(model, child, values) for child in q.children)
    return (q.join_type, q._is_negated, filters, children)


def _query_shape(query: QuerySet[Any] | ValuesQuery[Any], values: list[_Value]) -> tuple[Any, ...]:
    """What the SQL text of `query` depends on; its parameter candidates are appended to `values`."""
    if (
        query._group_bys
        or query._force_indexes
        or query._use_indexes
        or query._raise_does_not_exist
        or getattr(query, "_select_related", None)
        or getattr(query, "_prefetch_map", None)
        or getattr(query, "_prefetch_queries", None)
        or getattr(query, "_having", None)
        or getattr(query, "_select_for_update", None)
        or getattr(query, "_filter_kwargs", None)
    ):
        raise _Unmodelled("a clause")
    annotations = []  # (their `_custom_filters` only name them: a filter on one is in the Q objects)
    for name, expression in query._annotations.items():
        if type(expression) is not F:
            raise _Unmodelled("an expression")
        annotations.append((name, expression.name))
    selected = query._fields_for_select
    if selected and isinstance(query, QuerySet) and not _own_columns(query.model, selected):
        raise _Unmodelled(".only() of a relation or a renamed column")
    return (
        type(query),
        query.model,
        tuple(selected.items()) if isinstance(selected, dict) else tuple(selected or ()),
        getattr(query, "_flat", None),
        tuple(annotations),
        tuple((name, str(order)) for name, order in query._orderings),
        query._limit,
        query._offset,
        query._distinct,
        query._single,
        tuple(_q_shape(query.model, q, values) for q in query._q_objects),
    )


def _stand_in(value: Any, index: int) -> Any:
    """A value of `value`'s type that no other stand-in equals, in any form."""
    if isinstance(value, UUID):
        return UUID(int=index + 1)
    if type(value) is str:
        return f"~{index}~"
    if type(value) is int:
        return 1_000_003 + index
    return date.fromordinal(index + 1)


def _substitute(q: Q, stand_ins: Iterator[Any]) -> Q:
    """`q` with each parameter value replaced by the next stand-in (in `_q_shape`'s order)."""
    filters: dict[str, Any] = {}
    value: Any
    for key, value in q.filters.items():
        role = _role(_lookup(key), value)
        if role == "?":
            filters[key] = next(stand_ins)
        elif role == "?*":
            filters[key] = [next(stand_ins) for _ in value]
        elif role == "sub":
            filters[key] = Subquery(_substitute_query(value.query, stand_ins))
        else:
            filters[key] = value
    children = [_substitute(child, stand_ins) for child in q.children]
    copy = Q(*children, join_type=q.join_type)
    copy.filters = filters
    copy._is_negated = q._is_negated
    return copy


def _substitute_query(query: Any, stand_ins: Iterator[Any]) -> Any:
    """A copy of `query` (a QuerySet or a subquery's ValuesQuery) with its values replaced by stand-ins."""
    copied = query._clone() if isinstance(query, QuerySet) else shallow_copy(query)  # (ValuesQuery has no _clone)
    copied._q_objects = [_substitute(q, stand_ins) for q in query._q_objects]
    return copied


def _learn(parameters: list[Any], stand_ins: list[Any], values: list[_Value]) -> list[Any] | None:
    """For each parameter, the stand-in it was made from (its index and form) or the constant itself;
    None when a stand-in is not found among the parameters exactly once."""
    sources: list[Any] = [None] * len(parameters)
    for index, (stand_in, value) in enumerate(zip(stand_ins, values, strict=True)):
        found = [
            (position, name)
            for name in _forms_of(stand_in, value.lookup)
            for position, parameter in enumerate(parameters)
            if type(parameter) is type(made := _FORMS[name](stand_in)) and parameter == made
        ]
        if len({position for position, _ in found}) != 1 or sources[found[0][0]] is not None:
            return None
        position, name = found[0]
        sources[position] = (index, _FORMS[name])
    return [source if source is not None else (None, parameters[i]) for i, source in enumerate(sources)]


def _field(model: type[Model], key: str) -> Any:
    """The field `key` filters, when it is one of Tortoise's own, whose conversion of a value to a
    parameter is the one `_FORMS` knows (a field of our own could rewrite some values and not others,
    which matching one query's values could not tell); else None."""
    path = key.split("__")
    if path[-1] in _LOOKUPS:
        path.pop()
    for name in path[:-1]:
        relation = model._meta.fields_map.get(name)
        if relation is None or not hasattr(relation, "related_model"):
            return None
        model = relation.related_model
    found = model._meta.fields_map.get(path[-1]) if path else None
    return found if found is not None and type(found).__module__.startswith("tortoise.fields") else None


def _forms_of(value: Any, lookup: str) -> tuple[str, ...]:
    """The forms Tortoise may give a value of this lookup as a parameter."""
    if lookup == "startswith":
        return ("prefix",) if type(value) is str else ()
    return ("as is", "text")


async def execute(single_or_many: QuerySet[M] | QuerySetSingle[Any]) -> Any:
    """`await query`, with the SQL text of its shape built once: a list of models, or with `.first()`
    the model or None."""
    query = cast(QuerySet[Any], single_or_many)  # `.first()` types itself apart, and is a QuerySet
    if query._db is None:
        query._db = query._choose_db(query._select_for_update)
    values: list[_Value] = []
    try:
        shape = (query._db.capabilities.dialect, _query_shape(query, values))
    except _Unmodelled:
        return await query
    template = _templates.get(shape, ...)
    if template is ...:
        template = _render(query, values)
        _templates[shape] = template
        if len(_templates) > MAX_SHAPES:
            _templates.popitem(last=False)
    else:
        _templates.move_to_end(shape)
    if template is None or not template.fits(values):
        return await query
    _, raw = await query._db.execute_query(template.sql, template.parameters(values))
    rows = _models(query.model, raw, tuple(query._annotations), query._fields_for_select)
    if query._single:
        return rows[0] if rows else None
    return rows


def _guarded_attributes(model: type[Model], annotations: Any) -> bool:
    """Whether a column or annotation name is a data descriptor of the class (a property): `_models`
    writes the instance's dictionary, which only Tortoise's own attribute writes may stand for."""
    meta = model._meta
    names = [name for fields in (meta.db_native_fields, meta.db_default_fields, meta.db_complex_fields)
             for _, name, _ in fields] + list(annotations)  # fmt: skip
    return any(hasattr(type(getattr(model, name, None)), "__set__") for name in names)


def _own_columns(model: type[Model], selected: Any) -> bool:
    """Whether `.only(*selected)` names columns of the model itself, each read under its own name
    (Tortoise's partial rows are then keyed as `_models` reads them)."""
    projection = model._meta.fields_db_projection
    return isinstance(selected, tuple) and all(projection.get(name) == name for name in selected)


@lru_cache(maxsize=MAX_SHAPES)  # (`only` comes from a shape: bounded as the shapes are)
def _columns(
    model: type[Model], only: tuple[str, ...] = (), prefix: str = ""
) -> tuple[list[Any], list[Any], list[Any], bool]:
    """`model`'s columns as `_init_from_db` converts them: as read, by the field's type, by its
    `to_python_value` (with `only`, those of `.only()`, as Tortoise's partial rows; each read from
    the row under `prefix` + its name); and whether its key is made by the model (not by the database)."""
    meta = model._meta
    kept = set(only) if only else None

    def read(fields: Any) -> list[Any]:
        return [(prefix + key, name, field) for key, name, field in fields if kept is None or key in kept]

    return (
        [(key, name) for key, name, _ in read(meta.db_native_fields)],
        [(key, name, field.field_type) for key, name, field in read(meta.db_default_fields)],
        [(key, name, _converter(field)) for key, name, field in read(meta.db_complex_fields)],
        meta.db_pk_column not in meta.generated_db_fields,
    )


def _converter(field: Any) -> Callable[[Any], Any]:
    """The field's `to_python_value`; for Tortoise's text enum field, the same answer from a table of
    its members (the field calls the enum class, about 0.5 µs a value, two a user row), with the
    field's own conversion for anything not in the table (None, an unknown value and its error)."""
    if type(field) is not CharEnumFieldInstance:
        return cast(Callable[[Any], Any], field.to_python_value)
    members = {member.value: member for member in field.enum_type}
    convert = field.to_python_value

    def to_python_value(value: Any) -> Any:
        member = members.get(value) if type(value) is str else None
        return member if member is not None else convert(value)

    return to_python_value


def _models(
    model: type[M], raw: Any, annotations: tuple[str, ...], only: tuple[str, ...] = (), prefix: str = ""
) -> list[M]:
    """Model instances from the rows of a statement that selects every column of `model` (or those of
    `.only()`: a partial instance, which Tortoise will not save whole) and then `annotations`: what
    Tortoise's `_init_from_db` makes (the same conversions of the same fields), written as one
    dictionary update a row instead of an attribute call a column."""
    native, plain, complex_, generated_pk = _columns(model, only, prefix)
    partial = bool(only)
    new = model.__new__
    made = []
    for row in raw:
        instance = new(model)
        values = instance.__dict__
        values["_partial"] = partial
        values["_saved_in_db"] = True
        values["_custom_generated_pk"] = generated_pk
        values["_await_when_save"] = {}
        for key, name in native:
            values[name] = row[key]
        for key, name, kind in plain:
            value = row[key]
            values[name] = kind(value) if value is not None else None
        for key, name, convert in complex_:
            values[name] = convert(row[key])
        for name in annotations:
            values[name] = row[name]
        made.append(instance)
    return made


@cache
def _guarded_columns(model: type[Model]) -> bool:
    return _guarded_attributes(model, ())


def instance(model: type[M], row: Any, prefix: str) -> M:
    """The instance of `model` whose every column a raw statement selected as `prefix` + its name
    (models/sql.py `select_list`): `_models`' building for one row (Tortoise's own, for a model with
    a property named as a column)."""
    if _guarded_columns(model):
        columns = model._meta.fields_db_projection.values()
        return model._init_from_db(**{column: row[prefix + column] for column in columns})
    return _models(model, (row,), (), (), prefix)[0]


def _render(query: QuerySet[Any], values: list[_Value]) -> _Template | None:
    """Tortoise's SQL for the shape of `query` as a template (None: the shape is rendered each time)."""
    real = query._clone()
    real._make_query()  # Tortoise's own checks of the values (ValidationError) stand as they are
    if _guarded_attributes(query.model, query._annotations):
        return None
    fields = [_field(value.model, value.key) for value in values]
    if any(found is None for found in fields):
        return None
    try:
        stand_ins = [_stand_in(value.value, index) for index, value in enumerate(values)]
        probe = _substitute_query(query, iter(stand_ins))
        probe._make_query()
    except Exception:  # a stand-in its column refuses: this shape is rendered each time
        return None
    sql, parameters = probe.query.get_parameterized_sql()
    sources = _learn(list(parameters), stand_ins, values)
    if sources is None:
        return None
    lengths = [
        (getattr(found, "max_length", 0) or 0) if type(value.value) is str else 0
        for found, value in zip(fields, values, strict=True)
    ]
    template = _Template(sql, sources, lengths)
    # The template must give what Tortoise gives for the query at hand, text and parameters alike.
    if (sql, template.parameters(values)) != real.query.get_parameterized_sql():
        return None
    return template
