"""How a mutation's input reaches its resolver: one sentinel, one conversion, one id parser.

Every resolver takes its input as a typed dataclass declared next to it. A field the caller may
leave out defaults to `UNSET` ("unchanged"); None means "clear"; `given(value)` tells them apart.
`UNSET` is Strawberry's own sentinel, so a left-out field keeps the same marker all the way down
and no layer can mistake one "left out" for another. The schema builds the dataclass with
`from_input(input, DataclassType)`: by field name, recursively (nested inputs, lists of inputs),
enums passed through; a field left out takes the dataclass default, and so does an explicit null
for a field that cannot be null (`bool | None = True` in the schema, `bool = True` here). Tests
build the dataclasses directly, or with `from_input` from a plain dict.

Where the two shapes agree, the schema's input subclasses the dataclass and declares again only
the fields the API types differently (ids, nested inputs) or describes; `from_input` still rebuilds
it as the dataclass itself, so nested inputs are converted and nulls normalised the same way.
"""

from __future__ import annotations

import dataclasses
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from functools import cache, partial
from typing import Any, TypeVar, Union, cast

from strawberry.types.unset import UNSET, UnsetType

from permissions.errors import bad_input

__all__ = ["UNSET", "from_input", "given", "parse_uuid"]

T = TypeVar("T")


def given(value: Any) -> bool:
    """Whether the caller gave this field (null included): only given fields are changed."""
    return value is not UNSET


def parse_uuid(value: Any) -> uuid.UUID | None:
    """A UUID, or None for anything malformed (callers treat it like an id that does not exist)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def from_input(source: Any, cls: type[T]) -> T:
    """The dataclass `cls` filled from a Strawberry input object (or a dict) by field name.

    Refuses a source field `cls` does not declare (TypeError), so no input is silently dropped.
    """
    if type(source) is cls:
        return source  # a subclass (a Strawberry input declared on `cls`) is rebuilt: nested inputs too
    names: Any
    read: Callable[[str, Any], Any]
    if isinstance(source, Mapping):
        names = source.keys()
        read = source.get
    elif dataclasses.is_dataclass(source) and not isinstance(source, type):
        names = _names(type(source))
        read = partial(getattr, source)
    else:
        raise TypeError(f"Cannot read {cls.__name__} from {type(source).__name__}.")
    fields = _fields(cast(type, cls))
    if unknown := names - fields.keys():
        raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}.")
    values: dict[str, Any] = {}
    for name, (hint, keeps_default, converts) in fields.items():
        value = read(name, UNSET)
        if value is UNSET or (value is None and keeps_default):
            continue  # left out, or null where null cannot be stored: the default
        values[name] = _convert(value, hint) if converts else value
    return cls(**values)


@cache
def _names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


@cache
def _fields(cls: type) -> dict[str, tuple[Any, bool, bool]]:
    """Each init field of the dataclass `cls`: its resolved type, whether a null keeps its default
    (it has one and cannot be null), and whether a value needs converting (`_converts`). Worked
    out once a class: a search builds its filter on every request."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass.")
    hints = typing.get_type_hints(cls)
    fields = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        hint = hints[f.name]
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
        fields[f.name] = (hint, has_default and not _nullable(hint), _converts(hint))
    return fields


def _converts(hint: Any) -> bool:
    """Whether `_convert` can change a value of this type: a list, or a dataclass, among its members."""
    for member in _members(hint):
        if typing.get_origin(member) in (list, tuple, Sequence):
            return True
        if isinstance(member, type) and dataclasses.is_dataclass(member) and member is not UnsetType:
            return True
    return False


def _members(hint: Any) -> tuple[Any, ...]:
    """The types a union names (a plain type names itself)."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _nullable(hint: Any) -> bool:
    return hint is Any or any(m is type(None) for m in _members(hint))


def _convert(value: Any, hint: Any) -> Any:
    """`value` as the type `hint` names: inputs become dataclasses, lists convert each item."""
    if value is None or value is UNSET:
        return value
    for member in _members(hint):
        origin = typing.get_origin(member)
        if isinstance(value, list | tuple) and origin in (list, tuple, Sequence):
            (item,) = typing.get_args(member)[:1] or (Any,)
            return [_convert(v, item) for v in value]
        if isinstance(member, type) and dataclasses.is_dataclass(member) and member is not UnsetType:
            return from_input(value, member)
    return value


SEARCH_MAX = 254  # the longest column a search compares (an email): a longer term can match nothing


def search_text(value: str) -> str:
    """A search term, trimmed; one longer than any column it is compared with is BAD_USER_INPUT (it
    could match nothing, and SQLite refuses a LIKE pattern past 50,000 bytes)."""
    text = value.strip()
    if len(text) > SEARCH_MAX:
        raise bad_input(f"A search is at most {SEARCH_MAX} characters.")
    return text
