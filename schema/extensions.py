"""Response extensions and error hygiene: the request id on every response, unexpected errors
masked to "Internal server error" plus the request id, and no SQL, stack or PHI in what leaves."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from tortoise.exceptions import OperationalError

from permissions.errors import ApiError, ApiErrorCode
from schema.limits import LIMITS

log = logging.getLogger("tessera.graphql")

MASKED_MESSAGE = "Internal server error"


def is_expected(error: GraphQLError) -> bool:
    """Ours (ApiError) or graphql-core's own (syntax, validation, variable coercion): shown as is.
    Anything else came from an exception nobody planned for, and is masked.

    A variable that a scalar cannot parse (a bad DateTime, UUID...) arrives before execution (no
    path) as a GraphQLError wrapping graphql-core's GraphQLError, itself wrapping the scalar's
    ValueError: the caller's input, not our failure, so it stays BAD_USER_INPUT. During execution
    (a path) only our own errors are expected: a GraphQLError graphql-core raises there (a value
    that does not serialize, say) is our bug, and its message may quote the value.
    """
    original = error.original_error
    if original is None or isinstance(original, ApiError):
        return True
    if not isinstance(original, GraphQLError) or error.path is not None:
        return False
    cause = original.original_error
    return cause is None or isinstance(cause, ApiError | ValueError | TypeError)


BUSY_RETRY_SECONDS = 1


def is_database_busy(error: GraphQLError) -> bool:
    """SQLite's "database is locked": another process held the write lock past the busy timeout. A
    moment later it will not be: the caller is told to retry, never that the server failed. Only a
    database error says so (a caller's text saying those words is not one)."""
    cause: BaseException | None = error.original_error
    while cause is not None:
        if isinstance(cause, sqlite3.OperationalError | OperationalError) and "database is locked" in str(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def sanitize(errors: list[GraphQLError], request_id: str | None) -> None:
    """In place: expected errors get a code (BAD_USER_INPUT if they have none); a busy database is
    SERVICE_UNAVAILABLE with `retryAfter`; other unexpected ones become "Internal server error" with
    the request id, nothing of the exception kept."""
    for index, error in enumerate(errors):
        if is_database_busy(error):
            errors[index] = GraphQLError(
                "The database is busy: retry shortly.",
                nodes=error.nodes,
                path=error.path,
                extensions={
                    "code": ApiErrorCode.SERVICE_UNAVAILABLE.value,
                    "retryAfter": BUSY_RETRY_SECONDS,
                    "requestId": request_id,
                },
            )
        elif is_expected(error):
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": ApiErrorCode.BAD_USER_INPUT.value}
        else:
            errors[index] = GraphQLError(
                MASKED_MESSAGE,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": ApiErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
            )


def document_hash(query: str | None) -> str:
    return hashlib.sha256((query or "").encode()).hexdigest()[:16]


class RequestInfo(SchemaExtension):
    """Puts `requestId` in every response's extensions and masks unexpected errors."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if context is not None and hasattr(context, "operation_name"):
            context.operation_name = self.execution_context.operation_name
        yield
        if context is not None and hasattr(context, "operation_name"):
            # Now that the document is parsed: the name of the operation it ran, for the access log,
            # when the request did not send `operationName` (most clients only send the query).
            context.operation_name = self.execution_context.operation_name
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        cleaned = list(result.errors)
        sanitize(cleaned, getattr(self.execution_context.context, "request_id", None))
        if result.data is None and all(e.path is None for e in cleaned):
            # Refused before execution (validation, or variables that do not coerce): at most 3,
            # like validation errors (graphql-core reports up to 50 bad variables).
            del cleaned[LIMITS.max_validation_errors :]
        result.errors = cleaned

    def get_results(self) -> dict[str, Any]:
        request_id = getattr(self.execution_context.context, "request_id", None)
        return {"requestId": request_id} if request_id else {}


def log_unexpected(errors: list[GraphQLError], execution_context: Any) -> None:
    """Log what will be masked, with a traceback, and never the query text (it can carry PHI); then
    sanitize the list in place (and strip suggestions when they are off).

    Strawberry calls this (through `Schema.process_errors`) on every path that produces errors,
    including an exception raised inside an extension hook, where `RequestInfo.on_operation`
    never gets to see the result: sanitizing here is what guarantees nothing leaks.
    """
    context = execution_context.context if execution_context else None
    for error in errors:
        if is_expected(error):
            continue
        log.error(
            "unexpected error",
            exc_info=error.original_error,
            extra={
                "request_id": getattr(context, "request_id", None),
                "operation": getattr(execution_context, "operation_name", None),
                "document_hash": document_hash(getattr(execution_context, "query", None)),
                "path": list(error.path or []),
            },
        )
    sanitize(errors, getattr(context, "request_id", None))
    schema = getattr(execution_context, "schema", None)
    if schema is not None and schema.config.disable_field_suggestions:
        strip_suggestions(errors)


def strip_suggestions(errors: list[GraphQLError]) -> None:
    """Without introspection, no "Did you mean ...?" either: Strawberry strips it from unknown
    fields only, while graphql-core also suggests arguments, input fields, types and enum values,
    which would let a caller map the schema anyway."""
    for error in errors:
        if "Did you mean" in error.message:
            error.message = error.message.split(" Did you mean")[0].strip()
