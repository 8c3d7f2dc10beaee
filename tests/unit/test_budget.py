"""What a token's request is charged (schema/budget.py): what it returned, in the estimate's unit;
at least the estimate when it ended in errors."""

from __future__ import annotations

from graphql import ExecutionResult, GraphQLError

from schema.budget import actual_cost, charged_cost


def test_a_page_costs_its_fields_per_row_and_an_empty_list_its_field_once() -> None:
    page = {"clients": {"edges": [{"node": {"firstName": "A"}}, {"node": {"firstName": "B"}}]}}
    assert actual_cost(page) == 1 + 2 * (1 + 1 + 1)
    assert actual_cost({"clients": {"edges": []}}) == 2


def test_a_list_with_no_page_size_pays_for_every_row_it_returned() -> None:
    many = {"permissionGroups": [{"id": str(n)} for n in range(300)]}
    assert charged_cost(ExecutionResult(data=many), requested=2) == 600


def test_an_answer_with_errors_pays_at_least_its_estimate() -> None:
    failed = ExecutionResult(data=None, errors=[GraphQLError("FORBIDDEN")])
    assert charged_cost(failed, requested=452) == 452
    partial = ExecutionResult(data={"clients": None}, errors=[GraphQLError("FORBIDDEN")])
    assert charged_cost(partial, requested=452) == 452
