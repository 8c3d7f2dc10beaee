"""The schema assembly: one Query and one Mutation merged from the domain modules."""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import Any

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.extensions import RequestInfo, log_unexpected
from schema.limits import QueryLimits
from schema.phi import PhiAccessLog
from schema.refusals import RefusalLog
from schema.scalars import SCALAR_OVERRIDES

# One module per domain; each may define `Query` and `Mutation` types holding its root fields.
DOMAINS = ("auth", "locations", "users", "groups", "audit", "providers", "clients")


def _roots(kind: str) -> tuple[type, ...]:
    modules = [importlib.import_module(f"schema.{name}") for name in DOMAINS]
    return tuple(getattr(m, kind) for m in modules if hasattr(m, kind))


Query = merge_types("Query", _roots("Query"))
Mutation = merge_types("Mutation", _roots("Mutation"))


class TesseraSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        log_unexpected(errors, execution_context)


@lru_cache(maxsize=2)
def build_schema(introspection: bool = True) -> strawberry.Schema:
    """The schema; without introspection (production default) its queries and suggestions are off."""
    extensions: list[Any] = [QueryLimits, RequestInfo, PhiAccessLog, RefusalLog]
    if not introspection:
        # A factory, not an instance: a shared instance holds one request's execution context at a
        # time, so concurrent requests could miss the rule (and answer introspection in production).
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    return TesseraSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        scalar_overrides=SCALAR_OVERRIDES,
        config=StrawberryConfig(disable_field_suggestions=not introspection),
    )
