"""Response extensions and error hygiene: the request id on every response, unexpected errors
masked to "Internal server error" plus the request id, and no SQL, stack or PHI in what leaves."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from permissions.errors import ApiError, ApiErrorCode

log = logging.getLogger("tessera.graphql")

MASKED_MESSAGE = "Internal server error"


def is_expected(error: GraphQLError) -> bool:
    """Ours (ApiError) or graphql-core's own (syntax, validation, variable coercion): shown as is.
    Anything else came from an exception nobody planned for, and is masked."""
    original = error.original_error
    if original is None:
        return True
    if isinstance(original, ApiError):
        return True
    return isinstance(original, GraphQLError) and original.original_error is None


def document_hash(query: str | None) -> str:
    return hashlib.sha256((query or "").encode()).hexdigest()[:16]


class RequestInfo(SchemaExtension):
    """Puts `requestId` in every response's extensions and masks unexpected errors."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if context is not None and hasattr(context, "operation_name"):
            context.operation_name = self.execution_context.operation_name
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        request_id = getattr(self.execution_context.context, "request_id", None)
        cleaned: list[GraphQLError] = []
        for error in result.errors:
            if is_expected(error):
                if not (error.extensions or {}).get("code"):
                    error.extensions = {**(error.extensions or {}), "code": ApiErrorCode.BAD_USER_INPUT.value}
                cleaned.append(error)
            else:
                cleaned.append(
                    GraphQLError(
                        MASKED_MESSAGE,
                        nodes=error.nodes,
                        path=error.path,
                        extensions={"code": ApiErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
                    )
                )
        result.errors = cleaned

    def get_results(self) -> dict[str, Any]:
        request_id = getattr(self.execution_context.context, "request_id", None)
        return {"requestId": request_id} if request_id else {}


def log_unexpected(errors: list[GraphQLError], execution_context: Any) -> None:
    """Log what was masked, with a traceback, and never the query text (it can carry PHI)."""
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
