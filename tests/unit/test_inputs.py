"""The one way from a mutation's input to its resolver (resolvers/inputs.py): left out, null and a
value stay three different things through nested inputs and lists, so "unchanged" never becomes
"clear"."""

from __future__ import annotations

import enum
import uuid
from dataclasses import MISSING, dataclass, field, make_dataclass
from typing import Any

import pytest
import strawberry

from resolvers.inputs import UNSET, from_input, given, parse_uuid


class Colour(enum.Enum):
    RED = "RED"
    BLUE = "BLUE"


@strawberry.input
class PartInput:
    label: str
    note: str | None = strawberry.UNSET


@dataclass
class PartData:
    label: str
    note: str | None = UNSET


# One row a field: its type in the Strawberry input, its type in the dataclass, its default (MISSING:
# required). Every kind of field `from_input` converts is here once, the input's typing beside the
# dataclass's: an ID read as str, an enum, a nested input, a list of them, a list of IDs, and a
# `bool | None = True` input field stored as `bool = True`.
THING: dict[str, tuple[Any, Any, Any]] = {
    "id": (strawberry.ID, str, MISSING),
    "name": (str | None, str | None, UNSET),
    "colour": (Colour | None, Colour | None, UNSET),
    "part": (PartInput | None, PartData | None, UNSET),
    "parts": (list[PartInput] | None, list[PartData] | None, UNSET),
    "tags": (list[strawberry.ID] | None, list[str] | None, UNSET),
    "enabled": (bool | None, bool, True),
}
ThingInput = strawberry.input(
    make_dataclass("ThingInput", [(n, i, field(default=d)) for n, (i, _, d) in THING.items()])
)
ThingData = make_dataclass("ThingData", [(n, t, field(default=d)) for n, (_, t, d) in THING.items()])


def test_strawberry_unset_is_the_one_sentinel() -> None:
    assert UNSET is strawberry.UNSET
    assert not given(UNSET) and given(None) and given(0) and given("")


def test_left_out_stays_unset_null_stays_null_and_a_value_is_kept() -> None:
    left_out = from_input(ThingInput(id="1"), ThingData)
    assert left_out == ThingData(id="1")
    assert all(not given(getattr(left_out, n)) for n in ("name", "colour", "part", "parts", "tags"))

    cleared = from_input(ThingInput(id="1", name=None, colour=None, part=None, parts=None, tags=None), ThingData)
    assert (cleared.name, cleared.colour, cleared.part, cleared.parts, cleared.tags) == (None,) * 5

    kept = from_input(ThingInput(id="1", name="x", colour=Colour.BLUE, tags=["a", "b"]), ThingData)
    assert (kept.name, kept.colour, kept.tags) == ("x", Colour.BLUE, ["a", "b"])
    assert kept.colour is Colour.BLUE


def test_nested_inputs_become_dataclasses_with_their_own_unset() -> None:
    data = from_input(ThingInput(id="1", part=PartInput(label="a")), ThingData)
    assert data.part == PartData(label="a") and isinstance(data.part, PartData)
    assert not given(data.part.note)
    assert from_input(ThingInput(id="1", part=PartInput(label="a", note=None)), ThingData).part.note is None


def test_lists_of_inputs_convert_each_item() -> None:
    data = from_input(ThingInput(id="1", parts=[PartInput(label="a"), PartInput(label="b", note="n")]), ThingData)
    assert data.parts == [PartData(label="a"), PartData(label="b", note="n")]
    assert all(isinstance(p, PartData) for p in data.parts)
    assert not given(data.parts[0].note)
    assert from_input(ThingInput(id="1", parts=[]), ThingData).parts == []


def test_null_where_null_cannot_be_stored_means_the_default() -> None:
    assert from_input(ThingInput(id="1", enabled=None), ThingData).enabled is True
    assert from_input(ThingInput(id="1", enabled=False), ThingData).enabled is False

    @dataclass
    class WithList:
        ids: list[str] = field(default_factory=list)

    assert from_input({"ids": None}, WithList).ids == []


def test_a_dict_converts_like_an_input_and_unknown_fields_are_refused() -> None:
    data = from_input({"id": "1", "part": {"label": "a"}, "parts": [{"label": "b", "note": None}]}, ThingData)
    assert data.part == PartData(label="a") and data.parts == [PartData(label="b", note=None)]
    with pytest.raises(TypeError, match="no field"):
        from_input({"id": "1", "nmae": "typo"}, ThingData)

    @strawberry.input
    class Wider:
        id: strawberry.ID
        extra: int = 0

    with pytest.raises(TypeError, match="extra"):
        from_input(Wider(id="1"), ThingData)


@dataclass
class ShelfData:
    id: str
    enabled: bool = True
    part: PartData | None = UNSET


@strawberry.input
class ShelfInput(ShelfData):
    """The schema's way to declare fields once: subclass the dataclass, retype only what differs."""

    id: strawberry.ID
    enabled: bool | None = True
    part: PartInput | None = strawberry.UNSET


def test_an_input_declared_on_the_dataclass_is_rebuilt_as_the_dataclass() -> None:
    data = from_input(ShelfInput(id="1", enabled=None, part=PartInput(label="a")), ShelfData)
    assert type(data) is ShelfData and type(data.part) is PartData
    assert data.enabled is True  # the null normalised, as for any other input
    plain = ShelfData(id="2")
    assert from_input(plain, ShelfData) is plain


def test_a_required_field_left_out_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        from_input({}, ThingData)


def test_parse_uuid() -> None:
    value = uuid.uuid4()
    assert parse_uuid(str(value)) == value and parse_uuid(value) is value
    assert parse_uuid(str(value).upper()) == value
    for bad in ("not-a-uuid", "", None, 12, UNSET, ["x"]):
        assert parse_uuid(bad) is None
