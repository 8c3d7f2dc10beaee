"""`Payload.resolver` hands the resolver the dataclass its `data` parameter names, so a mutation
declares that type once, beside the resolver (schema/errors.py `_data_type`)."""

from __future__ import annotations

import dataclasses

import pytest

from resolvers import locations
from resolvers.context import RequestContext
from schema.errors import _data_type
from schema.locations import LocationPayload, UpdateLocationInput


def test_the_dataclass_comes_from_the_resolvers_annotation() -> None:
    assert _data_type(locations.update_location) is locations.UpdateLocationData
    assert _data_type(locations.create_location) is locations.CreateLocationData


async def _takes_a_string(ctx: RequestContext, data: str) -> None:
    return None


async def _takes_two_things(ctx: RequestContext, data: locations.UpdateLocationData, more: str) -> None:
    return None


def test_a_resolver_without_one_dataclass_must_name_what_it_takes() -> None:
    for resolver in (_takes_a_string, _takes_two_things):
        with pytest.raises(TypeError, match="name what it takes"):
            _data_type(resolver)


async def test_the_inferred_dataclass_reaches_the_resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve = LocationPayload.resolver(UpdateLocationInput, "location.update", locations.update_location)
    seen: list[object] = []

    async def update_location(ctx: RequestContext, data: locations.UpdateLocationData) -> None:
        seen.append(data)

    monkeypatch.setattr(locations, "update_location", update_location)  # looked up at each call
    info = type("Info", (), {"context": object()})()
    await resolve(info, UpdateLocationInput(id="x", name="North"))  # type: ignore[arg-type]
    (data,) = seen
    assert type(data) is locations.UpdateLocationData
    assert dataclasses.asdict(data)["name"] == "North"
