"""Top-level API errors: authentication and "may you call this at all" failures (contract header)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from graphql import GraphQLError


class ApiErrorCode(str, Enum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    PASSWORD_RESET_REQUIRED = "PASSWORD_RESET_REQUIRED"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class ApiError(GraphQLError):
    """A GraphQL error that reaches the caller as is, with `extensions.code` (never masked)."""

    def __init__(self, code: ApiErrorCode, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code.value, **extensions})
        self.code = code


def unauthenticated(reason: str | None = None) -> ApiError:
    if reason == "SESSION_LOCKED":
        return ApiError(ApiErrorCode.UNAUTHENTICATED, "The session is locked: unlock it with your PIN.", reason=reason)
    extra = {"reason": reason} if reason else {}
    return ApiError(ApiErrorCode.UNAUTHENTICATED, "Authentication required.", **extra)


def forbidden(message: str = "You do not have permission to do this.") -> ApiError:
    return ApiError(ApiErrorCode.FORBIDDEN, message)


def bad_input(message: str) -> ApiError:
    return ApiError(ApiErrorCode.BAD_USER_INPUT, message)
