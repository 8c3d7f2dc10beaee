"""The schema assembly: one Query and one Mutation merged from the domain modules."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema import arguments, audit, auth, clients, groups, integrations, locations, merges, portal, providers, users
from schema.budget import TokenBudget
from schema.compiled import Planner, compiled_execute
from schema.extensions import RequestInfo, log_unexpected
from schema.hooks import ExtensionsRunner
from schema.limits import QueryLimits
from schema.phi import PhiAccessLog
from schema.refusals import RefusalLog
from schema.request_metrics import RequestMetrics
from schema.scalars import SCALAR_OVERRIDES

# One module per domain, each with its root fields: a new domain adds its types here (the order is
# the order of the fields in the exported schema).
Query = merge_types(
    "Query",
    (
        auth.Query,
        locations.Query,
        users.Query,
        groups.Query,
        audit.Query,
        providers.Query,
        clients.Query,
        merges.Query,
        portal.Query,
        integrations.Query,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        auth.Mutation,
        locations.Mutation,
        users.Mutation,
        groups.Mutation,
        providers.Mutation,
        clients.Mutation,
        merges.Mutation,
        portal.Mutation,
        integrations.Mutation,
    ),
)


# Set while `execute_sync` runs: the compiled plans only run asynchronously.
_SYNC: ContextVar[bool] = ContextVar("tessera_execute_sync", default=False)


class TesseraSchema(strawberry.Schema):
    planner: Planner | None = None

    def _get_execute_function(self) -> Callable[..., Any]:
        """graphql-core's `execute`, or the compiled plans in front of it (schema/compiled.py)."""
        if self.planner is None or _SYNC.get():
            return super()._get_execute_function()
        return compiled_execute(self.planner)

    def execute_sync(self, *args: Any, **kwargs: Any) -> Any:
        token = _SYNC.set(True)
        try:
            return super().execute_sync(*args, **kwargs)
        finally:
            _SYNC.reset(token)

    def create_extensions_runner(self, execution_context: Any, extensions: list[Any]) -> ExtensionsRunner:
        """Strawberry's runner, with each extension's hooks wrapped once (schema/hooks.py)."""
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        log_unexpected(errors, execution_context)


@lru_cache(maxsize=4)
def build_schema(introspection: bool = True, compiled_plans: bool = True) -> strawberry.Schema:
    """The schema; without introspection (production default) its queries and suggestions are off;
    with `compiled_plans`, queries run through a plan per document (schema/compiled.py)."""
    # RequestMetrics first: its end runs last, on the answer the others have finished.
    extensions: list[Any] = [RequestMetrics, QueryLimits, RequestInfo, PhiAccessLog, RefusalLog, TokenBudget]
    if not introspection:
        # A factory, not an instance: a shared instance holds one request's execution context at a
        # time, so concurrent requests could miss the rule (and answer introspection in production).
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    schema = TesseraSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,
        config=StrawberryConfig(disable_field_suggestions=not introspection),
    )
    arguments.install(schema)
    if compiled_plans:
        schema.planner = Planner()
    return schema
