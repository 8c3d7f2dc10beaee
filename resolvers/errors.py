"""UserErrors: problems with the input, returned in a mutation payload's `errors`; and warnings:
what a change that was made did not do, returned in its payload's `warnings`.

A resolver raises `InputError`; leaving the transaction through it rolls everything back, so a
refused mutation never writes half of itself. The schema turns it into the payload's errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum


class ErrorCode(str, Enum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"
    LAST_ADMIN = "LAST_ADMIN"
    SEAT_LIMIT_REACHED = "SEAT_LIMIT_REACHED"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    LOGIN_THROTTLED = "LOGIN_THROTTLED"
    ACCOUNT_EXPIRED = "ACCOUNT_EXPIRED"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    ACCESS_NOT_ENABLED = "ACCESS_NOT_ENABLED"
    PASSWORD_TOO_WEAK = "PASSWORD_TOO_WEAK"
    INVITATION_INVALID = "INVITATION_INVALID"
    VERIFICATION_CODE_INVALID = "VERIFICATION_CODE_INVALID"


class WarningCode(str, Enum):
    """What a successful change did not do, or will not give, said in the payload's `warnings`."""

    REGISTRATION_EMAIL_NOT_SENT = "REGISTRATION_EMAIL_NOT_SENT"
    NO_PERMISSION_GROUP = "NO_PERMISSION_GROUP"
    PORTAL_EMAIL_UNVERIFIED = "PORTAL_EMAIL_UNVERIFIED"


@dataclass(frozen=True)
class ChangeWarning:
    """One warning: its code, a sentence for the person, and the path into the input it concerns."""

    code: WarningCode
    message: str
    field: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    code: ErrorCode
    message: str
    field: tuple[str, ...] | None = None


class InputError(Exception):
    """One or more problems with a mutation's input; nothing it did is kept."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = list(problems)

    @property
    def forbidden(self) -> bool:
        return any(p.code is ErrorCode.FORBIDDEN for p in self.problems)


def fail(code: ErrorCode, message: str, *field: str) -> InputError:
    """An InputError with one problem at `field` (a path into the input)."""
    return InputError([Problem(code, message, tuple(field) or None)])


class Problems:
    """Collects every problem of an input, so the caller sees them all at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, code: ErrorCode, message: str, *field: str) -> None:
        self.items.append(Problem(code, message, tuple(field) or None))

    def extend(self, problems: Sequence[Problem]) -> None:
        self.items.extend(problems)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputError(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)
