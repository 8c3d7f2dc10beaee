"""schema/reads.py: a page's statement reads the columns its selection needs (docs/architecture.md
"Performance rules"). What the rows then hold is checked end to end by the differential test
(tests/api/test_compiled_plans.py), whose other side reads every column."""

from __future__ import annotations

import re
from typing import Any

import pytest
from graphql import FieldNode, OperationDefinitionNode, parse

from schema import reads
from schema.clients import CLIENT_NODE
from schema.users import USER_NODE
from tests.factories import make_client
from tests.support import count_statements, error_codes

NODES = [CLIENT_NODE, USER_NODE]


def _level(document: str) -> list[Any]:
    """The top-level selections of `document`'s operation, as the resolver's field nodes hold them."""
    operation = parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return list(operation.selection_set.selections)


def _fields(selection: str) -> list[FieldNode]:
    level = reads.selected_level(_level("{ " + selection + " }"), ())
    assert level is not None
    return level


@pytest.mark.parametrize("node", NODES, ids=lambda node: node.type.__name__)
async def test_every_column_a_node_reads_is_a_column_of_its_model(db: Any, node: reads.Node) -> None:
    """A declaration naming no column (a typo, a renamed field) would fail the statement itself.
    (With the ORM set up: it adds the foreign key columns.)"""
    projection = node.model._meta.fields_db_projection
    declared = [column for found in reads._declared(node).values() for column in found or ()]
    for column in [*node.narrow, *declared]:
        assert projection.get(column) == column, f"{node.type.__name__}: {column} is not a column"
    assert len(set(node.narrow)) == len(node.narrow)


async def test_a_selection_within_the_narrow_columns_reads_them_alone(db: Any) -> None:
    """In the node's one order whatever the selection's own: two forms of statement a node."""
    level = _fields("id firstName location { name } __typename")
    assert reads.columns(level, CLIENT_NODE) == CLIENT_NODE.narrow
    assert reads.columns(list(reversed(level)), CLIENT_NODE) == CLIENT_NODE.narrow
    assert reads.columns(_fields("displayName"), USER_NODE) == USER_NODE.narrow  # first and last name
    # Past the narrow columns, every column: an address, a staff-only column, a PIN flag.
    assert reads.columns(_fields("id address { city }"), CLIENT_NODE) is None
    assert reads.columns(_fields("alert"), CLIENT_NODE) is None
    assert reads.columns(_fields("hasPin"), USER_NODE) is None


async def test_anything_not_declared_reads_every_column(db: Any) -> None:
    """A resolver that says nothing (coverage returns the whole row), a fragment or a directive."""
    assert reads.columns(_fields("id coverage { caseNumber }"), CLIENT_NODE) is None
    assert reads.columns(_fields("status"), USER_NODE) is None
    spread = _level("{ client { ...F } } fragment F on Client { id }")
    assert reads.selected_level(spread, ("client",)) is None
    inline = _level("{ client { ... on Client { id } } }")
    assert reads.selected_level(inline, ("client",)) is None
    skipped = _level("{ client { id @skip(if: true) } }")
    assert reads.selected_level(skipped, ("client",)) is None
    assert reads.selected_level(_level("{ client { id } }"), ("client",)) is not None
    assert reads.columns(None, CLIENT_NODE) is None


PAGE = "{ clients(first: 5) { edges { node { id firstName location { name } primaryProvider { displayName } } } } }"
COVERAGE = "{ clients(first: 5) { edges { node { id coverage { healthCardNumber } } } } }"


def _client_columns(statement: str) -> list[str]:
    """The client columns a statement selects (the alias of each item of its select list)."""
    items = statement.split(" FROM ")[0].removeprefix("SELECT ").split(",")
    aliases = [re.findall(r'"(\w+)"', item)[-1] for item in items]
    return [alias for alias in aliases if not alias.startswith("joined_")]


async def _page_statement(gql: Any, query: str, token: str) -> str:
    with count_statements() as statements:
        body = await gql(query, token=token)
    assert error_codes(body) == [] and body["data"]["clients"]["edges"], body
    (page,) = [s for s in statements if 'FROM "clients"' in s]
    return page


async def test_a_page_reads_the_columns_of_its_selection_and_no_more(gql, org_a) -> None:
    await make_client(org_a, org_a.locations[0], "Ann", "Abbott", health_card_number="1234567890")
    page = await _page_statement(gql, PAGE, org_a.admin.token)
    assert '"first_name"' in page and '"health_card_number"' not in page and '"alert"' not in page
    # Another selection within the narrow set reads the same columns, in the same order.
    other = await _page_statement(
        gql, "{ clients(first: 5) { edges { node { email lastName id } } } }", org_a.admin.token
    )
    assert _client_columns(other) == _client_columns(page)
    # Coverage hands out the whole row: every column is read.
    assert '"health_card_number"' in await _page_statement(gql, COVERAGE, org_a.admin.token)


async def test_a_joined_relation_reads_the_columns_asked_for(gql, org_a) -> None:
    """schema/joins.py: the relation's selected columns only (its first one always: it marks the join),
    and a relation asked for its id alone still answers from the page's own statement."""
    await make_client(org_a, org_a.locations[0], "Ann", "Abbott")
    page = await _page_statement(gql, "{ clients { edges { node { location { timezone } } } } }", org_a.admin.token)
    assert '"joined_location_timezone"' in page and '"joined_location_name"' in page
    assert '"joined_location_phone"' not in page
    with count_statements() as statements:
        body = await gql("{ clients { edges { node { id location { id } } } } }", token=org_a.admin.token)
    assert error_codes(body) == [] and len(statements) == 3, statements
    assert body["data"]["clients"]["edges"][0]["node"]["location"]["id"] == str(org_a.locations[0].id)
