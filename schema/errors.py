"""The UserError type, the one helper every mutation uses to turn InputErrors into payload errors,
and `Payload`, the way every mutation's payload is made from its resolver's answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Self, TypeVar

import strawberry

from resolvers import audit
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, InputError, Problem
from schema.info import Info

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


class Payload:
    """A mutation payload (a Strawberry type with an `errors` field) made from its resolver's answer.

    `class LocationPayload(Payload, result="location")` names the field that holds the resolver's
    result; a payload whose result needs more than that overrides `of`. A mutation answers with
    `await LocationPayload.run(info, "location.create", locations.create_location, data)`: the
    resolver is called with the request context and the arguments, through `attempt`.
    """

    result_field: ClassVar[str | None] = None

    def __init_subclass__(cls, result: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if result is not None:
            cls.result_field = result

    @classmethod
    def of(cls, result: Any, errors: list[UserError]) -> Self:
        assert cls.result_field is not None, f"{cls.__name__} names no result field"
        return cls(**{cls.result_field: result, "errors": errors})

    @classmethod
    async def run(
        cls, info: Info, action: str, resolver: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Self:
        result, errors = await attempt(info.context, action, lambda: resolver(info.context, *args, **kwargs))
        return cls.of(result, errors)
