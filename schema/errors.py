"""The UserError type, the one helper every mutation uses to turn InputErrors into payload errors,
and `Payload`, the way every mutation's payload is made from its resolver's answer (and the whole
root field of a mutation that does nothing else)."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Self, TypeVar

import strawberry

from resolvers import audit
from resolvers.context import RequestContext
from resolvers.errors import ChangeWarning, ErrorCode, InputError, Problem, WarningCode
from resolvers.inputs import from_input
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


strawberry.enum(WarningCode)  # registers it in place (the pattern of schema/enums.py)


@strawberry.type(description="Something a change that succeeded did not do, or will not give: the caller should know.")
class UserWarning:
    field: list[str] | None = strawberry.field(description='Path into the input, e.g. ["input", "userIds", "0"].')
    message: str
    code: WarningCode

    @classmethod
    def of(cls, warning: ChangeWarning) -> UserWarning:
        return cls(field=list(warning.field), message=warning.message, code=warning.code)


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
    result; a payload whose result needs more than that overrides `of_result`. A mutation answers with
    `await LocationPayload.run(info, "location.create", locations.create_location, data)`: the
    resolver is called with the request context and the arguments, through `attempt`.

    Every payload has `errors: [UserError!]!` (empty when the change was made). A payload class gets
    it here, after its own fields, unless it places it itself (UsersPayload, before `warnings`).
    """

    result_field: ClassVar[str | None] = None

    def __init_subclass__(cls, result: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if result is not None:
            cls.result_field = result
        fields = cls.__dict__.get("__annotations__")
        if fields is not None and "errors" not in fields:
            fields["errors"] = list[UserError]
            cls.errors = strawberry.field(default_factory=list)  # type: ignore[attr-defined]

    @classmethod
    def of(cls, result: Any, errors: list[UserError]) -> Self:
        """The payload of the resolver's answer: a change refused (no result) carries its errors alone,
        every other field left at its default."""
        if result is None:
            return cls(errors=errors)  # type: ignore[call-arg]
        return cls.of_result(result)

    @classmethod
    def of_result(cls, result: Any) -> Self:
        """The payload of a change that was made: `result` in the field the class names."""
        assert cls.result_field is not None, f"{cls.__name__} names no result field"
        return cls(**{cls.result_field: result})

    @classmethod
    async def run(
        cls, info: Info, action: str, resolver: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Self:
        result, errors = await attempt(info.context, action, lambda: resolver(info.context, *args, **kwargs))
        return cls.of(result, errors)

    @classmethod
    def resolver(
        cls, input: type, action: str, resolver: Callable[..., Awaitable[Any]], *takes: type | str
    ) -> Callable[..., Awaitable[Self]]:
        """The root resolver of a mutation that only hands its `input` to `resolver` and answers with
        this payload: `strawberry.mutation(resolver=UserPayload.resolver(CreateUserInput, "user.create",
        users.create_user), **requires(...))`.

        `takes` is what the resolver gets after the request context, in order: a dataclass is the
        whole input read with `from_input`, a string is that field of the input. Left out, it is the
        dataclass the resolver's one other parameter is annotated with (`data: CreateUserData`), so
        the type is named once, where the resolver declares it. The function carries its
        annotations as objects (`info: Info, input: <input>` returning this payload), which is all
        Strawberry reads to build the field's argument and type, as from a written method.

        `resolver` is looked up on its module at each call, as a written method body would look it up
        (so a test that replaces `locations.create_location` replaces it here too).
        """
        module, name = sys.modules[resolver.__module__], resolver.__name__
        assert getattr(module, name, None) is resolver, f"{name} is not reachable by its name in {module}"
        takes = takes or (_data_type(resolver),)

        async def resolve(info: Info, input: Any) -> Self:
            args = [from_input(input, take) if isinstance(take, type) else getattr(input, take) for take in takes]
            return await cls.run(info, action, getattr(module, name), *args)

        resolve.__annotations__ = {"info": Info, "input": input, "return": cls}
        return resolve


def _data_type(resolver: Callable[..., Any]) -> type:
    """The dataclass `resolver(ctx, data)` annotates `data` with, looked up by name in its module
    (annotations are strings under `from __future__ import annotations`)."""
    parameters = list(inspect.signature(resolver).parameters.values())
    hint = parameters[-1].annotation if len(parameters) == 2 else None
    found = vars(sys.modules[resolver.__module__]).get(hint, hint) if isinstance(hint, str) else hint
    if not (isinstance(found, type) and dataclasses.is_dataclass(found)):
        raise TypeError(
            f"{resolver.__name__} does not take (ctx, data: <a dataclass>): name what it takes from the input"
        )
    return found
