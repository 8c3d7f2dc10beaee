"""Every top-level FORBIDDEN is recorded (docs/architecture.md "Audit and PHI access": refused operations are security
events).

A refusal reaches the caller in one of two ways. A FORBIDDEN UserError in a mutation payload is
caught, and recorded, by `attempt()` (schema/errors.py). A top-level FORBIDDEN error comes from many
places: the permission classes (permissions/classes.py), `forbidden(...)` raised in resolvers, and
guarded fields (client `coverage`, provider `billing` and `user`) that answer null with FORBIDDEN at
their path, and client `invitations`, a non-null list, that answers [] with FORBIDDEN at its path
(`refuse_beside`: a raised error would null the client).
Rather than ask each of those to remember the trail, this extension reads the response's errors once
execution is over and records them here, in one place.

- One event per distinct refused field per request, action `<fieldName>.refused` (attempt()'s
  convention), the actor being the request's principal. A page of 50 clients whose coverage is
  refused writes one `coverage.refused` event listing the paths (the first `MAX_PATHS`) and the
  count, never 50 events.
- The field name is the schema's, not the caller's alias: an alias must not choose the action.
- Written after execution, in a transaction of its own: a mutation whose transaction rolled back
  on the refusal still leaves the refusal on the trail.
- Nothing is written for an unauthenticated caller (that is UNAUTHENTICATED, never FORBIDDEN).
- No double recording: `attempt()` turns its refusal into payload data, so that refusal never
  appears among the top-level errors this extension reads; the two sources cannot overlap.
- A request with no top-level FORBIDDEN pays nothing: no SQL statement, one scan of its errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import FieldNode, GraphQLError
from strawberry.extensions import SchemaExtension
from tortoise.transactions import in_transaction

from permissions.errors import ApiErrorCode, forbidden
from resolvers import audit
from resolvers.context import RequestContext
from schema.info import Info
from schema.reads import OWN_COLUMN, reads

REFUSED_SUFFIX = ".refused"
# Enough to say where the refusals were without one event growing with a page (or a nested page).
MAX_PATHS = 50
# models.audit.AuditEvent.action is 64 characters.
MAX_ACTION = 64


@dataclass
class Refusal:
    """The top-level FORBIDDEN errors of one field within one response."""

    field: str
    paths: list[str] = field(default_factory=list)
    reasons: set[str] = field(default_factory=set)

    @property
    def action(self) -> str:
        return self.field[: MAX_ACTION - len(REFUSED_SUFFIX)] + REFUSED_SUFFIX

    def changes(self, operation_type: str | None) -> dict[str, Any]:
        return {
            "paths": self.paths[:MAX_PATHS],
            "count": len(self.paths),
            "reasons": sorted(self.reasons),
            "operationType": operation_type,
        }


def _field_name(error: GraphQLError) -> str:
    """The schema's name of the refused field: graphql-core locates a resolver's error at the field's
    nodes, whose name is the real one (the path holds the response key, which may be an alias)."""
    for node in error.nodes or ():
        if isinstance(node, FieldNode):
            return node.name.value
    return next((str(p) for p in reversed(error.path or ()) if isinstance(p, str)), "operation")


def _is_refusal(error: GraphQLError) -> bool:
    """A top-level FORBIDDEN raised while resolving a field (so with a path)."""
    return bool(error.path) and (error.extensions or {}).get("code") == ApiErrorCode.FORBIDDEN.value


def refusals(errors: Iterable[GraphQLError] | None) -> list[Refusal]:
    """The response's FORBIDDEN errors grouped by field name, in the order they first appear."""
    grouped: dict[str, Refusal] = {}
    for error in errors or ():
        if not _is_refusal(error):
            continue
        name = _field_name(error)
        refusal = grouped.setdefault(name, Refusal(name))
        refusal.paths.append(".".join(str(p) for p in error.path or ()))
        refusal.reasons.add(error.message)
    return list(grouped.values())


async def record_refusals(ctx: RequestContext, found: list[Refusal], operation_type: str | None) -> None:
    """Write the events, all or none, in a transaction of the refusal's own (whatever the operation's
    transactions did), naming the principal; an anonymous caller is not recorded here."""
    if not found or await ctx.principal() is None:
        return
    async with in_transaction():
        for refusal in found:
            await audit.record(ctx, refusal.action, changes=refusal.changes(operation_type))


STAFF_ONLY = "Staff only: null and a FORBIDDEN error for a portal account."


def staff_only(info: Any, value: Any) -> Any:
    """`value`, or a FORBIDDEN error at the field's path when the caller is a portal account: the
    staff-only parts of a row a portal account may reach (a client's alert, a provider's billing role,
    the organization's seats). Sync, so the guard costs staff no task per row."""
    if info.context.staff_only_refused():
        raise forbidden("This is for clinic staff.")
    return value


def staff_column(kind: Any, description: str = STAFF_ONLY) -> Any:
    """A field that answers the row's column of the same name through `staff_only`:
    `sex_at_birth = staff_column(str | None)`. `kind` is the field's type."""

    def resolve(root: Any, info: Info) -> Any:
        return staff_only(info, getattr(root, info.python_name))

    resolve.__annotations__ = {"root": Any, "info": Info, "return": kind}
    return strawberry.field(resolver=resolve, description=description, metadata=reads(OWN_COLUMN))


def refuse_beside(info: Any, message: str) -> None:
    """One FORBIDDEN at this field's path while the field answers anyway: for a guarded field whose
    type is a non-null list (client `invitations`), where a raised error would null the parent
    object. The caller returns the empty list; `RefusalLog` adds the error to the response."""
    raw = info._raw_info
    error = GraphQLError(
        message,
        nodes=raw.field_nodes,
        path=raw.path.as_list(),
        extensions={"code": ApiErrorCode.FORBIDDEN.value},
    )
    info.context.field_errors.append(error)


class RefusalLog(SchemaExtension):
    """Records the request's top-level FORBIDDEN errors once execution is over (see the module)."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        ctx = self.execution_context.context
        result = self.execution_context.result
        if isinstance(ctx, RequestContext) and ctx.field_errors and result is not None:
            result.errors = [*(result.errors or []), *ctx.field_errors]
        found = refusals(getattr(result, "errors", None))
        if not found or not isinstance(ctx, RequestContext):
            return
        operation_type = getattr(self.execution_context.operation_type, "value", None)
        await record_refusals(ctx, found, operation_type)
