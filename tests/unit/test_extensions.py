"""schema/extensions.py: which errors reach the caller as they are, and which are masked."""

from __future__ import annotations

import datetime
import uuid

import strawberry
from graphql import GraphQLError

from permissions.errors import ApiError, ApiErrorCode, forbidden
from schema.extensions import MASKED_MESSAGE, document_hash, is_expected, sanitize


@strawberry.type
class Query:
    @strawberry.field
    def when(self, at: datetime.datetime) -> str:
        return at.isoformat()

    @strawberry.field
    def thing(self, id: uuid.UUID) -> str:
        return str(id)

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("SELECT secret FROM users")

    @strawberry.field
    def denied(self) -> str:
        raise forbidden()

    @strawberry.field
    def count(self) -> int:
        return "not a number"  # type: ignore[return-value]


SCHEMA = strawberry.Schema(Query)


def errors_of(query: str, variables: dict | None = None) -> list[GraphQLError]:
    result = SCHEMA.execute_sync(query, variable_values=variables)
    assert result.errors
    return list(result.errors)


def test_validation_and_syntax_errors_are_expected():
    assert all(is_expected(e) for e in errors_of("{ nope }"))
    assert all(is_expected(e) for e in errors_of("{ when("))


def test_bad_scalar_variables_are_the_callers_fault():
    """A DateTime or UUID that does not parse is BAD_USER_INPUT, not an internal error."""
    for query, variables in (
        ("query($at: DateTime!) { when(at: $at) }", {"at": "yesterday"}),
        ("query($id: UUID!) { thing(id: $id) }", {"id": "not-a-uuid"}),
        ("query($id: UUID!) { thing(id: $id) }", {"id": 12}),
    ):
        errors = errors_of(query, variables)
        assert all(is_expected(e) for e in errors), [(e.message, e.original_error) for e in errors]


def test_bad_scalar_literals_are_the_callers_fault():
    errors = errors_of('{ when(at: "yesterday") }')
    assert all(is_expected(e) for e in errors)


def test_our_errors_are_expected():
    [error] = errors_of("{ denied }")
    assert is_expected(error)


def test_resolver_exceptions_are_masked():
    [error] = errors_of("{ boom }")
    assert not is_expected(error)
    [error] = errors_of("{ count }")
    assert not is_expected(error)


def test_an_exception_from_a_hook_is_masked():
    """Strawberry wraps an exception escaping an extension as GraphQLError(str(exc), original_error=exc)."""
    error = GraphQLError("boom: constraint users_pkey", original_error=KeyError("users_pkey"))
    assert not is_expected(error)
    error = GraphQLError("bad value", original_error=ValueError("DETAIL: Key (id)=(1) already exists"))
    assert not is_expected(error)


def test_sanitize_in_place():
    errors = errors_of("{ boom denied nope }") if False else [*errors_of("{ boom }"), *errors_of("{ denied }")]
    errors.append(GraphQLError("Cannot query field 'nope'."))
    sanitize(errors, "req-1")
    assert errors[0].message == MASKED_MESSAGE
    assert errors[0].extensions == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-1"}
    assert errors[0].original_error is None and errors[0].path == ["boom"]
    assert errors[1].extensions["code"] == "FORBIDDEN"
    assert errors[2].extensions == {"code": "BAD_USER_INPUT"}
    assert isinstance(ApiError(ApiErrorCode.FORBIDDEN, "x"), GraphQLError)


def test_document_hash_is_stable_and_short():
    assert document_hash("{ a }") == document_hash("{ a }") != document_hash("{ b }")
    assert len(document_hash(None)) == 16
