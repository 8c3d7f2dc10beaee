"""Refuse expensive documents before any resolver runs (docs/architecture.md "API conventions"), and cache
parsing/validation.

Limits: 15,000 characters, 2,000 tokens, depth 10, 15 aliases, an estimated cost of 5,000 (a
connection multiplies its children by `first`), at most 10 mutations and one authentication
mutation per document. Each refusal is a QUERY_TOO_COMPLEX error; at most 3 validation errors are
returned. Parsed documents and validation results are cached by document text. What an API token is
charged (`Measure.charge`) also counts a list with no `first` at the rows it declares beside the
field, `at_most(...)`.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    Visitor,
    get_named_type,
    parse,
    value_from_ast_untyped,
    visit,
)
from strawberry.extensions import SchemaExtension

from permissions.catalog import Permission
from permissions.classes import AUTHENTICATES_KEY
from permissions.errors import ApiError, ApiErrorCode, bad_input


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
    # Field selections once fragments are expanded. graphql-core's overlapping-fields rule is
    # quadratic in repeated selections ({ viewer { kind } viewer { kind } ... } 450 times costs
    # seconds of CPU under the token limit), so they are bounded before validation runs. The
    # standard introspection query makes about 200.
    max_selections: int = 500
    # The rule compares every pair of fields one selection set holds under one response name
    # (fragments flattened into it, and below, the sub-selections of all of them together): 249
    # `viewer { kind }` at the root, under the selection cap, still cost 0.2 s of CPU. A real document
    # repeats a name where colocated fragments each select it (`id`, `__typename`): a few dozen.
    max_repeats: int = 50


LIMITS = Limits()
NUL_MESSAGE = "Text may not contain NUL characters or unpaired surrogates."


def too_complex(message: str) -> ApiError:
    return ApiError(ApiErrorCode.QUERY_TOO_COMPLEX, message)


@lru_cache(maxsize=512)
def parse_document(query: str, max_tokens: int) -> DocumentNode:
    """Parse once per distinct document text; raise QUERY_TOO_COMPLEX past the token or nesting limit.

    `max_lexical_tokens` counts what GraphQL calls tokens (comments left out; the 15,000-character
    limit bounds those). Other syntax errors propagate as GraphQLSyntaxError."""
    try:
        document = parse(query, max_lexical_tokens=max_tokens)
    except GraphQLSyntaxError as error:
        if "Parsing aborted" in error.message:
            if "tokens" in error.message:
                raise too_complex(f"The document has more than {max_tokens} tokens.") from None
            raise too_complex("The document is nested too deeply.") from None
        raise
    if "\\" in query and _literal_holds_nul(document):
        raise bad_input(NUL_MESSAGE)
    if _LONG_DIGITS.search(query) and _literal_too_long(document):
        raise bad_input(LONG_INTEGER_MESSAGE)
    return document


# Python converts at most this many digits to an int (a ValueError past it; PYTHONINTMAXSTRDIGITS
# sets it, 0 for no limit), as graphql-core does an Int literal and the cost estimate a variable's
# default: the caller's odd input, refused as such. The run of digits is looked for only where one
# starts (after a non-digit), so the search stays linear in the document however long its runs.
INTEGER_DIGITS = sys.get_int_max_str_digits()
LONG_INTEGER_MESSAGE = f"An integer may not have more than {INTEGER_DIGITS} digits."
_LONG_DIGITS = re.compile(rf"(?<![0-9])[0-9]{{{INTEGER_DIGITS + 1}}}" if INTEGER_DIGITS else r"(?!)")


class _LiteralFinder(Visitor):
    """Stops at the first string or Int literal of a document (an argument, a default, inside a list
    or an object) that `refused` flags."""

    def __init__(self, refused: Callable[[StringValueNode | IntValueNode], bool]) -> None:
        super().__init__()
        self.refused = refused
        self.found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        return self._judge(node)

    def enter_int_value(self, node: IntValueNode, *_: Any) -> Any:
        return self._judge(node)

    def _judge(self, node: StringValueNode | IntValueNode) -> Any:
        if self.refused(node):
            self.found = True
            return BREAK
        return None


def _has_literal(document: DocumentNode, refused: Callable[[StringValueNode | IntValueNode], bool]) -> bool:
    finder = _LiteralFinder(refused)
    visit(document, finder)
    return finder.found


def _literal_too_long(document: DocumentNode) -> bool:
    """An Int literal too long to convert."""
    return _has_literal(
        document, lambda node: isinstance(node, IntValueNode) and len(node.value.lstrip("-")) > INTEGER_DIGITS
    )


def _literal_holds_nul(document: DocumentNode) -> bool:
    """A string literal written with an escape (`"\\u0000"`) that decodes to NUL."""
    return _has_literal(document, lambda node: isinstance(node, StringValueNode) and "\x00" in node.value)


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


@dataclass(frozen=True)
class Measure:
    """What a selection set costs once its fragments are expanded."""

    depth: int = 0
    cost: int = 0  # the document limit's estimate: a page counts `first` rows, any other list one
    aliases: int = 0
    fields: int = 0  # fields at this level (at the root of a mutation: the mutations)
    auth_fields: int = 0  # of which authentication mutations
    selections: int = 0  # field selections at every level, fragments expanded
    charge: int = 0  # what an API token's bucket is charged: a list with no page size at its declared rows

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            max(self.depth, other.depth),
            self.cost + other.cost,
            self.aliases + other.aliases,
            self.fields + other.fields,
            self.auth_fields + other.auth_fields,
            self.selections + other.selections,
            self.charge + other.charge,
        )


class _Measurer:
    """Measures selection sets, expanding fragment spreads.

    Each fragment is measured once and remembered: a fragment spread twice in a fragment spread
    twice... would otherwise cost 2^n steps to walk, so the limit checks could themselves be the
    denial of service. A fragment cycle measures as empty (validation refuses it afterwards).
    `ofType` adds no depth: the standard introspection query nests it 7 deep to unwrap types,
    and the chain ends with the schema's own type wrappers, so it cannot be made to grow.
    Given the schema, each field is known by its type, so in the charge a list with no page size
    counts the rows its own field declares (`list_rows`: `Query.locations` and `User.locations` each
    their own).
    """

    def __init__(
        self,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        paged_fields: frozenset[str],
        default_page: int,
        auth_mutations: frozenset[str] = frozenset(),
        schema: GraphQLSchema | None = None,
    ) -> None:
        self.fragments = fragments
        self.variables = variables
        self.paged_fields = paged_fields
        self.default_page = default_page
        self.auth_mutations = auth_mutations
        self.schema = schema
        self.list_rows = _list_rows(schema) if schema is not None else {}
        self._memo: dict[str, Measure] = {}
        self._active: set[str] = set()

    def fragment(self, name: str) -> Measure:
        if name in self._memo:
            return self._memo[name]
        if name in self._active or name not in self.fragments:
            return Measure()
        self._active.add(name)
        try:
            fragment = self.fragments[name]
            measure = self.selection_set(fragment.selection_set, self._type(fragment.type_condition.name.value))
        finally:
            self._active.discard(name)
        self._memo[name] = measure
        return measure

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name) if self.schema is not None else None

    def selection_set(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None = None) -> Measure:
        total = Measure()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total + self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                total = total + self.selection_set(
                    selection.selection_set, self._type(condition.name.value) if condition else parent
                )
            elif isinstance(selection, FragmentSpreadNode):
                total = total + self.fragment(selection.name.value)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None = None) -> Measure:
        name = node.name.value
        fields = parent.fields if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType) else {}
        definition = fields.get(name)
        children = self.selection_set(node.selection_set, get_named_type(definition.type) if definition else None)
        paged = name in self.paged_fields or any(a.name.value in PAGE_ARGUMENTS for a in node.arguments or ())
        multiplier = _page_size(node, self.variables, self.default_page) if paged else 1
        rows = multiplier if paged or not (definition and parent) else self.list_rows.get(f"{parent.name}.{name}", 1)
        return Measure(
            depth=children.depth + (0 if name == "ofType" else 1),
            cost=1 + children.cost * multiplier,
            aliases=children.aliases + (1 if node.alias is not None else 0),
            fields=1,
            auth_fields=1 if name in self.auth_mutations else 0,
            selections=1 + children.selections,
            charge=1 + children.charge * rows,
        )


PAGE_ARGUMENTS = frozenset({"first", "limit"})


def measure(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any] | None = None,
    paged_fields: frozenset[str] = frozenset(),
    default_page: int = LIMITS.default_page,
    auth_mutations: frozenset[str] = frozenset(),
    schema: GraphQLSchema | None = None,
    root: GraphQLNamedType | None = None,
) -> Measure:
    """What `selection_set` costs; given the `schema` and the `root` type it selects from, the lists
    with no page size count their declared rows."""
    measurer = _Measurer(fragments, variables or {}, paged_fields, default_page, auth_mutations, schema)
    return measurer.selection_set(selection_set, root)


def depth(selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]) -> int:
    return measure(selection_set, fragments).depth


def alias_count(document: DocumentNode, operation_name: str | None = None) -> int:
    """Aliases in the operation that would run, fragments expanded (a spread counts its aliases)."""
    operation = select_operation(document, operation_name)
    if operation is None:
        return 0
    return measure(operation.selection_set, _fragments(document)).aliases


def _page_size(node: FieldNode, variables: dict[str, Any], default: int) -> int:
    for argument in node.arguments or ():
        if argument.name.value in PAGE_ARGUMENTS:
            value = argument.value
            if isinstance(value, VariableNode):
                return _page_value(variables.get(value.name.value), default)
            return _page_value(getattr(value, "value", None), default)
    return default


def _page_value(raw: Any, default: int) -> int:
    """A `first`/`limit` value as the estimate counts it: 0 to 100, the default when absent or not a
    number (graphql-core refuses a wrong type afterwards; an infinite float is not a number either)."""
    try:
        return max(0, min(int(raw), 100)) if raw is not None else default
    except (TypeError, ValueError, OverflowError):
        return default


class _PageVariables(Visitor):
    """The variables a document passes as `first` or `limit`, fragments included."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        for argument in node.arguments or ():
            if argument.name.value in PAGE_ARGUMENTS and isinstance(argument.value, VariableNode):
                self.names.add(argument.value.name.value)


def cost(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    list_fields: frozenset[str],
    default_page: int,
) -> int:
    """1 per field; a paginated field (one taking `first`/`limit`, or named in `list_fields`)
    multiplies its children by its page size (`first`, else the default page)."""
    return measure(selection_set, fragments, variables, list_fields, default_page).cost


def paged_fields(schema: GraphQLSchema) -> frozenset[str]:
    """Names of the fields that take `first` or `limit`: a connection asked for without `first`
    still returns a default page, so its children are multiplied by it."""
    names: set[str] = set()
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType) and not type_.name.startswith("__"):
            names.update(n for n, f in type_.fields.items() if PAGE_ARGUMENTS & set(f.args))
    return frozenset(names)


# A list with no `first` declares, beside the field, how many rows it is expected to hold at most
# (`at_most(...)`): an API token's charge multiplies its children by that, as a page's by `first`.
# Counting it as one row let a token's request run, and be charged, for a fraction of what it
# returned (found in a security review). One that returns more than it declared pays the rest when
# settled (schema/budget.py). The document limit (`max_cost`, every caller) still counts it once:
# counted at its rows it would refuse documents staff screens send (a group list with its members).
ROWS_KEY = "rows"
# The sizes declared. The catalogue is a true bound; the others are a clinic's, with room to spare.
CATALOGUE_ROWS = len(Permission)  # permissions, and what a user holds of them
ORGANIZATION_ROWS = 20  # an organization's locations, permission groups or integrations
OWN_ROWS = 5  # what one row lists: its sites, a user's groups, a client's links, an integration's tokens...
CONTACT_ROWS = 3  # a client's phones or emergency contacts


def at_most(count: int, field: dict[str, Any] | None = None) -> dict[str, Any]:
    """Keyword arguments for `strawberry.field` of a list with no `first`: `field`'s own (those of
    `requires(...)`, say), its metadata marked with the rows the query limits count the list for."""
    merged = dict(field or {})
    merged["metadata"] = {**merged.get("metadata", {}), ROWS_KEY: count}
    return merged


def _is_list(type_: Any) -> bool:
    return isinstance(type_.of_type if isinstance(type_, GraphQLNonNull) else type_, GraphQLList)


def list_rows(schema: GraphQLSchema) -> dict[str, int]:
    """The rows each list with no page size declares (`at_most`), by `Type.field`, read from the schema
    (so no name here can be one that does not exist)."""
    found: dict[str, int] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            rows = getattr(definition, "metadata", {}).get(ROWS_KEY)
            if rows is not None and _is_list(field.type) and not PAGE_ARGUMENTS & set(field.args):
                found[f"{type_.name}.{name}"] = int(rows)
    return found


def auth_mutations(schema: GraphQLSchema) -> frozenset[str]:
    """Names of the mutations marked `authenticates=True` (permissions/classes.py), read from the
    schema itself: the limit cannot name a field that does not exist, nor miss one that is added."""
    if schema.mutation_type is None:
        return frozenset()
    return frozenset(
        name
        for name, field in schema.mutation_type.fields.items()
        if getattr((field.extensions or {}).get("strawberry-definition"), "metadata", {}).get(AUTHENTICATES_KEY)
    )


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        return next((o for o in operations if o.name and o.name.value == operation_name), None)
    return operations[0] if len(operations) == 1 else None


def _variable_defaults(operation: OperationDefinitionNode) -> dict[str, Any]:
    """The operation's variables that declare a default value, as plain values: `first: $n` with
    `$n: Int = 100` and no value sent pages 100, and so costs as much."""
    return {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }


def check_document(
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    limits: Limits = LIMITS,
    list_fields: frozenset[str] = frozenset(),
    auth_fields: frozenset[str] = frozenset(),
    schema: GraphQLSchema | None = None,
) -> int:
    """Raise QUERY_TOO_COMPLEX for the first limit the operation that would run passes
    (`auth_fields`: the authentication mutations, `auth_mutations(schema)`); else return what an API
    token's budget is charged for it (schema/budget.py): its estimate with, given the `schema`, each
    list with no page size at the rows it declares."""
    operation = select_operation(document, operation_name)
    if operation is None:
        _check_selections(document, limits)  # validation still walks every definition
        return 0  # graphql-core reports the missing or ambiguous operation itself
    variables = {**_variable_defaults(operation), **(variables or {})}
    if document.loc is None:
        return _check(document, operation, variables, limits, list_fields, auth_fields, schema)
    key = (document.loc.source.body, operation_name, limits, list_fields, auth_fields, schema)
    checks = _checks.get(key)
    if checks is None:
        finder = _PageVariables()
        visit(document, finder)
        checks = _checks[key] = _Checks(tuple(sorted(finder.names)), {})
        if len(_checks) > CHECK_CACHE_SIZE:
            _checks.popitem(last=False)
    else:
        _checks.move_to_end(key)
    pages = tuple(_page_value(variables.get(name), limits.default_page) for name in checks.page_variables)
    outcome = checks.outcomes.get(pages)
    if outcome is None:
        try:
            outcome = _check(document, operation, variables, limits, list_fields, auth_fields, schema)
        except ApiError as error:
            if error.code is not ApiErrorCode.QUERY_TOO_COMPLEX:
                raise
            outcome = error.message
        if len(checks.outcomes) >= PAGE_OUTCOMES:
            checks.outcomes.clear()
        checks.outcomes[pages] = outcome
    if isinstance(outcome, str):
        raise too_complex(outcome)  # a new error each time: a response adds its request id to it
    return outcome


# check_document's outcome depends on the document, the operation, the limits, field sets and schema, and of
# the variables only on the page sizes they give: remembered by those, so a page of 50 clients is not
# measured afresh on every request (about 0.1 ms of its CPU). Bounded like the validation cache; the
# outcomes of one document by the number of page-size combinations kept.
CHECK_CACHE_SIZE = 1024
PAGE_OUTCOMES = 256


@dataclass
class _Checks:
    page_variables: tuple[str, ...]
    outcomes: dict[tuple[int, ...], int | str]


_checks: OrderedDict[tuple[Any, ...], _Checks] = OrderedDict()


def _check(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    limits: Limits,
    list_fields: frozenset[str],
    auth_fields: frozenset[str],
    schema: GraphQLSchema | None,
) -> int:
    try:
        found = measure(
            operation.selection_set,
            _fragments(document),
            variables,
            list_fields,
            limits.default_page,
            auth_fields,
            schema,
            schema.get_root_type(operation.operation) if schema is not None else None,
        )
    except RecursionError:
        raise too_complex("The document is nested too deeply.") from None
    if found.aliases > limits.max_aliases:
        raise too_complex(f"The document uses more than {limits.max_aliases} aliases.")
    if found.depth > limits.max_depth:
        raise too_complex(f"The document is nested deeper than {limits.max_depth} levels.")
    if operation.operation is OperationType.MUTATION:
        if found.fields > limits.max_mutations:
            raise too_complex(f"The document holds more than {limits.max_mutations} mutations.")
        if found.auth_fields > limits.max_auth_mutations:
            raise too_complex("The document holds more than one authentication mutation.")
    if found.cost > limits.max_cost:
        raise too_complex(f"The document's estimated cost {found.cost} is over {limits.max_cost}.")
    if found.selections > limits.max_selections:
        raise too_complex(f"The document selects more than {limits.max_selections} fields.")
    _check_selections(document, limits)
    return found.charge


def document_selections(document: DocumentNode) -> int:
    """Field selections in the whole document, fragments expanded: every operation (not only the one
    that runs) and every fragment no operation spreads, since graphql-core validates them all
    (its overlapping-fields rule, quadratic in repeated selections, included). A fragment spread only
    from another unspread one may count twice: such a document is invalid anyway."""
    fragments = _fragments(document)
    measurer = _Measurer(fragments, {}, frozenset(), LIMITS.default_page)
    total = sum(
        measurer.selection_set(d.selection_set).selections
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )
    spread = set(measurer._memo)
    return total + sum(measurer.fragment(name).selections for name in fragments if name not in spread)


def repeated_names(document: DocumentNode) -> int:
    """The most fields the document holds under one response name where graphql-core's
    overlapping-fields rule compares them pairwise: at one level (fragments, inline and spread,
    flattened into it), and below, across the sub-selections of every field that one name holds at
    the level above (each pair of those fields compares their sub-fields, so repeats multiply down:
    25 `viewer` each with 9 `organization` are 225). Each group is walked once."""
    fragments = _fragments(document)
    # A group: the selection sets graphql-core compares as one (a level, or the sub-selections of every
    # field one response name holds at a level: each pair of those fields compares their sub-fields).
    pending: list[tuple[SelectionSetNode, ...]] = [
        (d.selection_set,) for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    pending += [(f.selection_set,) for f in fragments.values()]
    walked: set[tuple[int, ...]] = set()
    most = 0
    while pending:
        group = pending.pop()
        if tuple(map(id, group)) in walked:
            continue
        walked.add(tuple(map(id, group)))
        names: dict[str, int] = {}
        below: dict[str, list[SelectionSetNode]] = {}
        for selection_set in group:
            for name, sub in _level(selection_set, fragments, frozenset()):
                names[name] = names.get(name, 0) + 1
                if sub is not None:
                    below.setdefault(name, []).append(sub)
        most = max(most, *names.values(), 0)
        pending += [tuple(subs) for subs in below.values()]
    return most


def _level(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode], spreading: frozenset[str]
) -> Iterator[tuple[str, SelectionSetNode | None]]:
    """(response name, its own selection set) of each field at the selection set's level."""
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            yield (node.alias or node.name).value, node.selection_set
        elif isinstance(node, InlineFragmentNode):
            yield from _level(node.selection_set, fragments, spreading)
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments and node.name.value not in spreading:
            # (A spread within its own fragment is a cycle, which validation refuses: not followed.)
            fragment = fragments[node.name.value]
            yield from _level(fragment.selection_set, fragments, spreading | {node.name.value})


def _check_selections(document: DocumentNode, limits: Limits) -> None:
    try:
        selections = document_selections(document)
        repeats = repeated_names(document) if selections <= limits.max_selections else 0
    except RecursionError:
        raise too_complex("The document is nested too deeply.") from None
    if selections > limits.max_selections:
        raise too_complex(f"The document selects more than {limits.max_selections} fields.")
    if repeats > limits.max_repeats:
        raise too_complex(f"A selection holds one field more than {limits.max_repeats} times.")


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\\ud800" in the JSON body)
        return False
    return True


def holds_unstorable_text(value: Any) -> bool:
    """Whether a string in the variables could not be stored: a NUL (PostgreSQL text cannot hold
    one) or a lone UTF-16 surrogate (no database driver can encode one). Either would fail its
    statement as an internal error (and abort the transaction) wherever it reached SQL or argon2,
    so it is refused as bad input up front, for every field alike. Iterative: JSON can nest deep."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not _storable(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class QueryLimits(SchemaExtension):
    """Parse with the character and token limits (cached), then check the other limits before
    validation, and keep at most 3 validation errors."""

    limits: Limits = LIMITS

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        query = ctx.query or ""
        if len(query) > self.limits.max_characters:
            raise too_complex(f"The document is longer than {self.limits.max_characters} characters.")
        # The operation name too: graphql-core echoes an unknown one in its error, which no JSON
        # encoder can write with a lone surrogate in it (the answer was a 500).
        if not _storable(query) or holds_unstorable_text([ctx.variables, ctx.operation_name]):
            raise bad_input(NUL_MESSAGE)
        if ctx.graphql_document is None and query:
            # A syntax error is left to Strawberry's own parse, which reports it as an ordinary
            # pre-execution error (so it gets its code and the request id like any other).
            with contextlib.suppress(GraphQLSyntaxError):
                ctx.graphql_document = parse_document(query, self.limits.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        schema = ctx.schema._schema
        if ctx.graphql_document is not None:
            estimated = check_document(
                ctx.graphql_document,
                ctx.operation_name,
                ctx.variables,
                self.limits,
                _paged_fields(schema),
                _auth_mutations(schema),
                schema,
            )
            if ctx.context is not None and hasattr(ctx.context, "requested_cost"):
                ctx.context.requested_cost = estimated
            key = (id(schema), ctx.query or "")
            cached = _validation_cache.get(key)
            if cached is not None:
                _validation_cache.move_to_end(key)
                ctx.pre_execution_errors = list(cached)
        yield
        errors = ctx.pre_execution_errors
        if errors is not None:
            # In place: Strawberry already holds this very list for the response.
            del errors[self.limits.max_validation_errors :]
            for error in errors:
                if not (error.extensions or {}).get("code"):
                    error.extensions = {**(error.extensions or {}), "code": ApiErrorCode.BAD_USER_INPUT.value}
            if ctx.query:
                _validation_cache[(id(schema), ctx.query)] = tuple(errors)
                if len(_validation_cache) > VALIDATION_CACHE_SIZE:
                    # Least recently used out: a flood of one-off documents cannot freeze the cache
                    # full of them (it used to stop caching at 1,024 entries, for good).
                    _validation_cache.popitem(last=False)


# Validation depends only on the document and the schema: cache it by (schema, text). The graphql-core
# schema objects live as long as the process (build_schema is cached), so their ids are not reused.
VALIDATION_CACHE_SIZE = 1024
_validation_cache: OrderedDict[tuple[int, str], tuple[GraphQLError, ...]] = OrderedDict()


@lru_cache(maxsize=4)
def _paged_fields(schema: GraphQLSchema) -> frozenset[str]:
    return paged_fields(schema)


@lru_cache(maxsize=4)
def _auth_mutations(schema: GraphQLSchema) -> frozenset[str]:
    return auth_mutations(schema)


@lru_cache(maxsize=4)
def _list_rows(schema: GraphQLSchema) -> Mapping[str, int]:
    return list_rows(schema)
