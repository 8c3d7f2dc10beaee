"""The row type of the permission matrix (its expectations: `expect.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.permissions.cases.expect import UNAUTHENTICATED

Document = Callable[[Any], tuple[str, dict[str, Any]]]  # a row's GraphQL document and variables, from the world


@dataclass(frozen=True)
class Case:
    """(case, operation, principal, target, expected): one row of the matrix.

    `document(world)` returns the GraphQL document and variables aimed at the row's target.
    `check(world, data)` may assert more about an allowed answer (e.g. which rows came back).
    """

    case: str
    operation: str
    principal: str
    target: str
    expected: str
    document: Document
    check: Callable[[Any, Any], Any] | None = None

    @property
    def id(self) -> str:
        return f"{self.operation}:{self.case}:{self.principal}"


def fixed(document: str, **variables: Any) -> Document:
    """A row's `document` that takes nothing from the world: this document with these variables."""
    return lambda w: (document, variables)


def location_id(w: Any, name: str) -> str:
    """The id of a world location by name: "a1", "a2" (org A) or "b1" (org B)."""
    return str(getattr(w, name).id)


Row = tuple[Any, ...]  # (case, principal, target, expected, document[, check]): a Case less its operation


def no_token(target: str, document: Document) -> Row:
    """The row most fields end on: no session at all, a top-level UNAUTHENTICATED."""
    return ("no token", "anonymous", target, UNAUTHENTICATED, document)


def rows(operation: str, *given: Row) -> list[Case]:
    """The rows of one root field, its name said once: each `given` is a Case less its operation."""
    return [Case(row[0], operation, *row[1:]) for row in given]
