"""The UserError type and the one helper every mutation uses to turn InputErrors into payload errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import strawberry

from resolvers import audit
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, InputError, Problem

T = TypeVar("T")


@strawberry.type
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path into the input, e.g. ["input", "contact", "lastName"].'
    )
    message: str
    code: ErrorCode

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        return cls(field=list(problem.field) if problem.field else None, message=problem.message, code=problem.code)


async def attempt(
    ctx: RequestContext, action: str, call: Callable[[], Awaitable[T]]
) -> tuple[T | None, list[UserError]]:
    """Run a mutation's resolver; its InputError becomes the payload's errors.

    The resolver's transaction has already rolled back when the error arrives here. A FORBIDDEN
    refusal is a security event, so it is recorded, in a transaction of its own.
    """
    try:
        return await call(), []
    except InputError as error:
        if error.forbidden:
            await audit.record(
                ctx,
                f"{action}.refused",
                changes={"fields": [".".join(p.field) for p in error.problems if p.field]},
            )
        return None, [UserError.from_problem(p) for p in error.problems]
