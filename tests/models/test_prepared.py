"""docs/architecture.md "Performance rules": `models/prepared.py` keeps the SQL text of each query
shape and only gathers the values of later queries. Whatever the shape, the rows are Tortoise's own:
every query here runs both ways (Tortoise rendering it, and the template, learnt and then reused with
other values) and must give the same rows, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta, timezone
from typing import Any

import pytest
from tortoise.exceptions import ValidationError
from tortoise.expressions import F, Q, Subquery
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models import prepared
from models.audit import AuditEvent
from models.clients import Client
from models.enums import ClientStatus
from models.providers import Provider
from models.users import User, UserLocation
from tests.factories import AUDIT_T0, Org, audit_event, make_client, make_provider


@pytest.fixture
async def clinic(org_a: Org) -> dict[str, Any]:
    """Clients at both locations, with and without a primary provider, some archived."""
    a1, a2 = org_a.locations
    provider = await make_provider(org_a.admin.user, "Dr Ana Reyes")
    rows = [
        await make_client(org_a, a1, "Ann", "Abbott", provider=provider),
        await make_client(org_a, a1, "Ben", "Abbott"),
        await make_client(org_a, a1, "Cleo", "100%_Bell", status=ClientStatus.ARCHIVED),
        await make_client(org_a, a2, "Dan", "Abel", provider=provider),
        await make_client(org_a, a2, "Eve", "Zed"),
    ]
    return {"org": org_a, "a1": a1, "a2": a2, "provider": provider, "clients": rows}


def _ids(rows: Any) -> list[str]:
    if rows is None or isinstance(rows, Model):
        return [str(rows.id)] if rows is not None else []
    return [str(row.id) for row in rows]


def _instances(rows: Any) -> list[dict[str, Any]]:
    """Everything an instance holds (its columns, annotations and Tortoise's own bookkeeping)."""
    if rows is None or isinstance(rows, Model):
        rows = [rows] if rows is not None else []
    return [vars(row) for row in rows]


async def _both_ways(make: Callable[[Any], QuerySet[Any]], values: list[Any]) -> list[list[str]]:
    """Each value's query through Tortoise and through `prepared.execute` (the first one learns the
    shape, the others reuse it): the same rows, in the same order, every time."""
    prepared._templates.clear()
    answers = []
    for value in values:
        expected = await make(value)
        assert _instances(await prepared.execute(make(value))) == _instances(expected), value
        answers.append(_ids(expected))
    return answers


async def test_one_template_serves_every_value_of_a_shape(clinic) -> None:
    org, a1, a2 = clinic["org"].organization, clinic["a1"], clinic["a2"]

    def scoped(location: Any) -> QuerySet[Client]:
        # The page's shape: organization, an IN list, the same location again (a value that repeats), an enum.
        return Client.filter(
            Q(organization_id=org.id) & Q(Q(location_id__in=[str(location.id)]), join_type=Q.OR),
            location_id=location.id,
            status__in=[ClientStatus.ACTIVE],
        ).order_by("last_name_key", "first_name_key", "id")

    a1_rows, a2_rows = await _both_ways(scoped, [a1, a2])
    assert len(a1_rows) == 2 and len(a2_rows) == 2
    assert [t is not None for t in prepared._templates.values()] == [True]  # one shape, learnt once


async def test_prefixes_firsts_limits_and_keyset_filters(clinic) -> None:
    org = clinic["org"].organization

    def prefix(text: str) -> QuerySet[Client]:
        return Client.filter(organization_id=org.id, last_name_key__startswith=text).order_by("id").limit(3)

    # LIKE's own characters in a prefix are escaped as Tortoise escapes them.
    assert [len(r) for r in await _both_ways(prefix, ["abb", "ab", "100%_", "100", "zz"])] == [2, 3, 1, 1, 0]

    def first(client: Client) -> QuerySet[Client]:
        return Client.filter(organization_id=org.id, id=client.id).first()  # type: ignore[return-value]

    assert await _both_ways(first, clinic["clients"]) == [[str(c.id)] for c in clinic["clients"]]

    def after(name: str) -> QuerySet[Client]:
        return Client.filter(Q(last_name_key__gt=name) | Q(last_name_key=name, id__gt=clinic["clients"][0].id))

    assert len(await _both_ways(after, ["abbott", "abel", "zed"])) == 3


async def test_booleans_nulls_and_enums_are_part_of_the_shape(clinic) -> None:
    org = clinic["org"].organization

    def provided(has: bool) -> QuerySet[Client]:
        return Client.filter(organization_id=org.id, primary_provider_id__isnull=has).order_by("id")

    with_provider, without = await _both_ways(provided, [False, True])
    assert (len(with_provider), len(without)) == (2, 3)
    assert len(prepared._templates) == 2

    def status(value: ClientStatus) -> QuerySet[Client]:
        return Client.filter(organization_id=org.id, status=value).order_by("id")

    assert [len(r) for r in await _both_ways(status, [ClientStatus.ACTIVE, ClientStatus.ARCHIVED])] == [4, 1]
    assert len(prepared._templates) == 2


async def test_subqueries_and_joined_columns(clinic) -> None:
    org, a1, provider = clinic["org"].organization, clinic["a1"], clinic["provider"]
    await UserLocation.create(organization=org, user=clinic["org"].admin.user, location=a1)

    def works_at(location: Any) -> QuerySet[User]:
        sites = Subquery(UserLocation.filter(location_id__in=[str(location.id)]).values("user_id"))
        return User.filter(organization_id=org.id, id__in=sites).order_by("id")

    at_a1, at_a2 = await _both_ways(works_at, [a1, clinic["a2"]])
    assert (at_a1, at_a2) == ([str(clinic["org"].admin.user.id)], [])

    def via_relation(user_id: Any) -> QuerySet[Client]:
        return Client.filter(organization_id=org.id, primary_provider__user_id=user_id).order_by("id")

    assert [len(r) for r in await _both_ways(via_relation, [provider.user_id, org.id])] == [2, 0]

    def joined(location: Any) -> QuerySet[Client]:
        return Client.filter(location_id=location.id).annotate(joined_name=F("location__name")).order_by("id")

    await _both_ways(joined, [a1, clinic["a2"]])
    rows = await prepared.execute(joined(clinic["a2"]))
    assert [row.joined_name for row in rows] == [clinic["a2"].name] * 2


async def test_what_it_does_not_model_is_rendered_by_tortoise(clinic) -> None:
    org = clinic["org"].organization

    def search(text: str) -> QuerySet[Client]:
        return Client.filter(organization_id=org.id, last_name_key__icontains=text).order_by("id")

    assert [len(r) for r in await _both_ways(search, ["bb", "e"])] == [2, 3]
    assert not prepared._templates  # typed text is never a shape: a flood of searches keeps nothing

    # A value its column cannot hold is refused by Tortoise's own check, as before: also once the
    # shape has a template (a name short enough to be a parameter, too long for the column).
    def named(text: str) -> QuerySet[Provider]:
        return Provider.filter(organization_id=org.id, display_name=text)

    assert await _both_ways(named, ["Dr Ana Reyes", "x" * 10]) == [[str(clinic["provider"].id)], []]
    for text in ("x" * 201, "x" * 300):
        with pytest.raises(ValidationError):
            await named(text)
        with pytest.raises(ValidationError):
            await prepared.execute(named(text))


async def test_times_are_left_to_tortoise(clinic) -> None:
    """A datetime equals another of the same instant at another UTC offset, while SQLite compares the
    text Tortoise writes for each: one caller's offset must never stand for another's (nor must each
    page of a list sorted by time fill the shapes kept)."""
    org = clinic["org"]
    for minutes in range(10):
        await audit_event(org, "x.y", minutes * 60)
    plus_five = timezone(timedelta(hours=5))

    def since(moment: Any) -> QuerySet[AuditEvent]:
        return AuditEvent.filter(organization_id=org.organization.id, occurred_at__gte=moment).order_by("id")

    three_hours_in = AUDIT_T0 + timedelta(hours=3)
    same_instant = three_hours_in.astimezone(plus_five)
    assert same_instant == three_hours_in  # a key they would share
    await _both_ways(since, [same_instant, three_hours_in, three_hours_in, same_instant])
    assert not prepared._templates


async def test_partial_rows_read_only_their_columns(clinic) -> None:
    """`.only()` (the columns a selection reads, schema/reads.py): Tortoise's own partial rows, with
    every conversion (enum, date, JSON, a key) and a joined column beside them; a column not read is
    absent, and the row cannot be saved whole. A relation's column goes to Tortoise."""
    org, a1, a2 = clinic["org"].organization, clinic["a1"], clinic["a2"]

    def page(location: Any) -> QuerySet[Client]:
        return (
            Client.filter(organization_id=org.id, location_id=location.id)
            .only("id", "first_name", "status", "date_of_birth", "phones", "location_id", "primary_provider_id")
            .annotate(joined_name=F("location__name"))
            .order_by("last_name_key", "id")
        )

    assert [len(r) for r in await _both_ways(page, [a1, a2])] == [3, 2]
    assert [t is not None for t in prepared._templates.values()] == [True]
    rows = await prepared.execute(page(a1))
    assert all(row._partial for row in rows) and {row.joined_name for row in rows} == {a1.name}
    with pytest.raises(AttributeError):
        _ = rows[0].last_name

    prepared._templates.clear()
    related = Client.filter(organization_id=org.id).only("id", "location__name")
    await _both_ways(lambda _: Client.filter(organization_id=org.id).only("id", "location__name"), [None])
    await prepared.execute(related)
    assert not prepared._templates


async def test_rows_of_a_raw_statement_are_tortoise_instances(clinic) -> None:
    """`models/sql.py` `from_row` (the session, its user and organization, read in one statement by
    `load_session_access`) builds with `instance`: what `_init_from_db` builds, on either backend."""
    from models.organization import Organization
    from models.sessions import Session
    from models.sql import fetch_all, from_row
    from resolvers.credentials import token_hash
    from resolvers.user_grants import _session_sql

    hashed = token_hash(clinic["org"].admin.token)
    (row, *_) = await fetch_all(_session_sql(), [hashed, hashed])
    for model, prefix in ((Session, "s_"), (User, "u_"), (Organization, "o_")):
        columns = model._meta.fields_db_projection.values()
        expected = model._init_from_db(**{column: row[prefix + column] for column in columns})
        assert vars(from_row(model, row, prefix)) == vars(expected), model.__name__


async def test_enum_columns_convert_as_the_fields_own_conversion(clinic) -> None:
    """`_converter` answers a text enum column from a table of its members: the very member the
    field's own `to_python_value` gives for each value, None for None, and its error otherwise."""
    from tortoise import Tortoise
    from tortoise.fields.data import CharEnumFieldInstance

    fields = [
        field
        for model in Tortoise.apps["models"].values()
        for field in model._meta.fields_map.values()
        if type(field) is CharEnumFieldInstance
    ]
    assert fields
    for field in fields:
        convert = prepared._converter(field)
        assert getattr(convert, "__self__", None) is not field  # the table, not the field's method
        for member in field.enum_type:
            assert convert(str(member.value)) is field.to_python_value(str(member.value)) is member
        assert convert(None) is None
        with pytest.raises(ValueError):
            convert("NOT-A-MEMBER")
