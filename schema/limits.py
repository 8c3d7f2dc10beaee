"""Refuse expensive documents before any resolver runs (DESIGN §5), and cache parsing/validation.

Limits: 15,000 characters, 2,000 tokens, depth 10, 15 aliases, an estimated cost of 5,000 (a
connection multiplies its children by `first`), at most 10 mutations and one authentication
mutation per document. Each refusal is a QUERY_TOO_COMPLEX error; at most 3 validation errors are
returned. Parsed documents and validation results are cached by document text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    parse,
)
from strawberry.extensions import SchemaExtension

from permissions.errors import ApiError, ApiErrorCode


@dataclass(frozen=True)
class Limits:
    max_characters: int = 15_000
    max_tokens: int = 2_000
    max_depth: int = 10
    max_aliases: int = 15
    max_cost: int = 5_000
    max_mutations: int = 10
    max_auth_mutations: int = 1
    max_validation_errors: int = 3
    default_page: int = 50


LIMITS = Limits()
AUTH_MUTATIONS = frozenset(
    {
        "login",
        "acceptStaffInvitation",
        "portalSignUp",
        "portalLogin",
        "unlockWithPin",
        "changePassword",
        "acceptClientInvitation",
    }
)


def too_complex(message: str) -> ApiError:
    return ApiError(ApiErrorCode.QUERY_TOO_COMPLEX, message)


@lru_cache(maxsize=512)
def parse_document(query: str, max_tokens: int) -> DocumentNode:
    """Parse once per distinct document text; raise QUERY_TOO_COMPLEX past the token limit."""
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError as error:
        if "tokens" in error.message and "Parsing aborted" in error.message:
            raise too_complex(f"The document has more than {max_tokens} tokens.") from None
        raise


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _fields(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], seen: frozenset[str]
) -> Iterator[FieldNode]:
    """The fields of a selection set, fragments flattened (a fragment cycle is left to validation)."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen or name not in fragments:
                continue
            yield from _fields(fragments[name].selection_set, fragments, seen | {name})


def depth(selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]) -> int:
    best = 0
    for node in _fields(selection_set, fragments, frozenset()):
        if node.name.value.startswith("__"):
            continue
        best = max(best, 1 + depth(node.selection_set, fragments))
    return best


def alias_count(document: DocumentNode) -> int:
    count = 0

    def walk(selection_set: SelectionSetNode | None) -> None:
        nonlocal count
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode) and selection.alias is not None:
                count += 1
            walk(getattr(selection, "selection_set", None))

    for definition in document.definitions:
        walk(getattr(definition, "selection_set", None))
    return count


def _page_size(node: FieldNode, variables: dict[str, Any], default: int) -> int:
    for argument in node.arguments or ():
        if argument.name.value in {"first", "limit"}:
            value = argument.value
            if isinstance(value, VariableNode):
                raw = variables.get(value.name.value)
            else:
                raw = getattr(value, "value", None)
            try:
                return max(0, min(int(raw), 100)) if raw is not None else default
            except (TypeError, ValueError):
                return default
    return default


def cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    list_fields: frozenset[str],
    default_page: int,
) -> int:
    """1 per field; a paginated field (one taking `first`/`limit`) multiplies its children."""
    total = 0
    for node in _fields(selection_set, fragments, frozenset()):
        children = cost(node.selection_set, fragments, variables, list_fields, default_page)
        paged = any(a.name.value in {"first", "limit"} for a in node.arguments or ()) or node.name.value in list_fields
        multiplier = _page_size(node, variables, default_page) if paged else 1
        total += 1 + children * multiplier
    return total


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        return next((o for o in operations if o.name and o.name.value == operation_name), None)
    return operations[0] if len(operations) == 1 else None


def check_document(
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    limits: Limits = LIMITS,
    list_fields: frozenset[str] = frozenset(),
) -> None:
    """Raise QUERY_TOO_COMPLEX for the first limit the document passes."""
    fragments = _fragments(document)
    if alias_count(document) > limits.max_aliases:
        raise too_complex(f"The document uses more than {limits.max_aliases} aliases.")
    operation = select_operation(document, operation_name)
    if operation is None:
        return  # graphql-core reports the missing or ambiguous operation itself
    if depth(operation.selection_set, fragments) > limits.max_depth:
        raise too_complex(f"The document is nested deeper than {limits.max_depth} levels.")
    if operation.operation is OperationType.MUTATION:
        roots = [f.name.value for f in _fields(operation.selection_set, fragments, frozenset())]
        if len(roots) > limits.max_mutations:
            raise too_complex(f"The document holds more than {limits.max_mutations} mutations.")
        if sum(1 for r in roots if r in AUTH_MUTATIONS) > limits.max_auth_mutations:
            raise too_complex("The document holds more than one authentication mutation.")
    estimated = cost(operation.selection_set, fragments, variables or {}, list_fields, limits.default_page)
    if estimated > limits.max_cost:
        raise too_complex(f"The document's estimated cost {estimated} is over {limits.max_cost}.")


class QueryLimits(SchemaExtension):
    """Parse with the character and token limits (cached), then check the other limits before
    validation, and keep at most 3 validation errors."""

    limits: Limits = LIMITS

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        query = ctx.query or ""
        if len(query) > self.limits.max_characters:
            raise too_complex(f"The document is longer than {self.limits.max_characters} characters.")
        if ctx.graphql_document is None and query:
            ctx.graphql_document = parse_document(query, self.limits.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if ctx.graphql_document is not None:
            check_document(ctx.graphql_document, ctx.operation_name, ctx.variables, self.limits)
            cached = _validation_cache.get((id(ctx.schema), ctx.query or ""))
            if cached is not None:
                ctx.pre_execution_errors = list(cached)
        yield
        errors = ctx.pre_execution_errors
        if errors is not None:
            errors = errors[: self.limits.max_validation_errors]
            for error in errors:
                if not (error.extensions or {}).get("code"):
                    error.extensions = {**(error.extensions or {}), "code": ApiErrorCode.BAD_USER_INPUT.value}
            ctx.pre_execution_errors = errors
            if ctx.query and len(_validation_cache) < 1024:
                _validation_cache[(id(ctx.schema), ctx.query)] = tuple(errors)


# Validation depends only on the document and the schema: cache it by (schema, text).
_validation_cache: dict[tuple[int, str], tuple[GraphQLError, ...]] = {}
