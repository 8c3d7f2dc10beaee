"""A compiled plan per document: the fast path of reads (docs/architecture.md "Performance rules").

graphql-core executes a document field by field: for every field of every row it builds a resolve
info, looks up arguments, calls a resolver, checks for an awaitable and dispatches on the return
type; a list of rows whose fields await becomes one task per row. On a page of 50 clients that is
~550 field executions and ~160 tasks, most of the request's CPU.

The first time a validated query document runs, `plan` walks it once against the schema: which field
each response key is, which are basic (an attribute read, no resolver, no permission), which call
their resolver, which leaf type serializes each value, which selection each object completes with.
Later requests with the same document run the plan with `run`: basic fields are read and
serialized straight from the rows, and resolver fields are called for a whole batch of rows at once
(one gather a field, not a task a row), so DataLoaders still batch.

Nothing about permissions is planned or copied. Every field with a resolver, a permission class or
an extension is called through the very resolve function the normal executor calls (Strawberry's
wrapper: permission classes, argument conversion, the resolver), with the same resolve info (built
by the executor graphql-core would use); only a sync resolver with no argument, no permission class
and no extension, for which the wrapper does nothing but build the Strawberry `Info`, is called with
that `Info` directly (`_direct`), so scoping, guarded fields (null and one FORBIDDEN at the
path), the PHI access notes and every error come from the same code. Errors are located, propagated
to the nearest nullable position and collected as graphql-core does (its `CollectedErrors`).

What the plan does not cover falls back to graphql-core: mutations and subscriptions, directives
(`@skip`/`@include`: a plan would depend on variables), abstract types (interfaces, unions),
introspection, types with `is_type_of`, and any schema extension that wraps resolvers (middleware).
tests/api/test_compiled_plans.py runs documents through both paths for every principal of the permission
matrix world and requires identical data, errors and extensions.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import partial
from types import GeneratorType
from typing import Any
from uuid import UUID

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    execute,
    located_error,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, Undefined, is_iterable
from strawberry.execution.is_awaitable import optimized_is_awaitable
from tortoise.models import Model

from schema.joins import JOINED, JoinedRow, ToOne, joined

# Plans kept (documents are few: an app sends the same handful; persisted queries make it so).
MAX_PLANS = 512

# `Path((prev, key, typename))` as graphql-core's `Path(prev, key, typename)` makes it, without the
# Python frame of a NamedTuple's `__new__`: a page builds one a row for each field it resolves.
_path = partial(tuple.__new__, Path)


class Unplannable(Exception):
    """The document uses something the plan does not cover: graphql-core runs it."""


@dataclass(eq=False)
class FieldPlan:
    """One response key of a selection: the field it is and how its value is obtained."""

    key: str
    name: str
    nodes: list[FieldNode]
    definition: GraphQLField | None  # None: __typename
    parent: GraphQLObjectType
    attribute: str | None  # a basic field: the attribute read from the source
    takes_arguments: bool
    selection: Selection | None  # the named return type is an object type
    # A basic field of a scalar or enum type (or its non-null): its output coercion and whether it
    # may be null, for `_Run.plain_leaves`.
    leaf: tuple[Callable[[Any], Any], bool] | None = None
    # A plain sync resolver: how `_Run.resolve` calls it without Strawberry's wrapper (see `_direct`).
    direct: Direct | None = None
    # Such a resolver's answer for a row read with this relation joined (`answered_by`).
    join: ToOne | None = None


@dataclass(eq=False)
class Selection:
    type: GraphQLObjectType
    fields: list[FieldPlan] = field(default_factory=list)


@dataclass(eq=False)
class Plan:
    operation: OperationDefinitionNode
    root: Selection


def _named(type_: GraphQLOutputType) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _collect(
    parent: GraphQLObjectType,
    selection_sets: Sequence[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
    grouped: OrderedDict[str, list[FieldNode]],
) -> None:
    """Field nodes by response key, in document order, fragments flattened (only fragments on the
    parent's own type: validation already checked they apply)."""
    for selection_set in selection_sets:
        for node in selection_set.selections:
            if node.directives:
                raise Unplannable("directive")
            if isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                grouped.setdefault(key, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                if node.type_condition is not None and node.type_condition.name.value != parent.name:
                    raise Unplannable("fragment on another type")
                _collect(parent, [node.selection_set], fragments, grouped)
            elif isinstance(node, FragmentSpreadNode):
                fragment = fragments[node.name.value]
                if fragment.type_condition.name.value != parent.name:
                    raise Unplannable("fragment on another type")
                _collect(parent, [fragment.selection_set], fragments, grouped)


def _selection(
    schema: GraphQLSchema,
    parent: GraphQLObjectType,
    selection_sets: Sequence[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
) -> Selection:
    if parent.is_type_of is not None:
        raise Unplannable("is_type_of")
    grouped: OrderedDict[str, list[FieldNode]] = OrderedDict()
    _collect(parent, selection_sets, fragments, grouped)
    selection = Selection(parent)
    for key, nodes in grouped.items():
        name = nodes[0].name.value
        if name == "__typename":
            selection.fields.append(FieldPlan(key, name, nodes, None, parent, None, False, None))
            continue
        if name.startswith("__") or name not in parent.fields:
            raise Unplannable("introspection")
        definition = parent.fields[name]
        named = _named(definition.type)
        child = None
        if isinstance(named, GraphQLObjectType):
            child = _selection(schema, named, [n.selection_set for n in nodes if n.selection_set], fragments)
        elif not isinstance(named, GraphQLLeafType):
            raise Unplannable("abstract type")
        direct = _direct(schema, definition)
        selection.fields.append(
            FieldPlan(
                key,
                name,
                nodes,
                definition,
                parent,
                _basic_attribute(definition),
                bool(definition.args or nodes[0].arguments),
                child,
                _leaf(definition) if _basic_attribute(definition) is not None else None,
                direct,
                getattr(direct.function, JOINED, None) if direct is not None else None,
            )
        )
    return selection


@dataclass(frozen=True)
class Direct:
    """A resolver field's function, its Strawberry field and the names it takes the row and the info
    under (None: not taken)."""

    function: Callable[..., Any]
    field: Any
    info_class: type
    self_positional: bool
    source_names: tuple[str, ...]
    info_name: str | None

    def __call__(self, source: Any, info: Any) -> Any:
        kwargs = dict.fromkeys(self.source_names, source)
        if self.info_name is not None:
            kwargs[self.info_name] = self.info_class(_raw_info=info, _field=self.field)
        if self.self_positional:
            return self.function(source, **kwargs)
        return self.function(**kwargs)


def _direct(schema: GraphQLSchema, definition: GraphQLField) -> Direct | None:
    """How to call a field's resolver as Strawberry's wrapper would, when all the wrapper does for it
    is build the Strawberry `Info`: a sync resolver that takes no argument, with no permission class,
    no field extension and no exception handler (`_resolver` then only converts no arguments and
    calls the function). The client page's relation fields, once a row each, are such."""
    field = definition.extensions.get("strawberry-definition")
    resolver = getattr(field, "base_resolver", None)
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    if (
        resolver is None
        or strawberry_schema is None
        or getattr(definition.resolve, "__name__", "") != "_resolver"
        or field.is_async
        or field.permission_classes
        or field.extensions
        or field.arguments
        or definition.args
        or strawberry_schema.schema_converter._exception_handler_specs
        or not callable(resolver.wrapped_func)
    ):
        return None
    sources = tuple(p.name for p in (resolver.root_parameter, resolver.parent_parameter) if p is not None)
    info = resolver.info_parameter
    return Direct(
        resolver.wrapped_func,
        field,
        strawberry_schema.config.info_class,
        resolver.self_parameter is not None,
        sources,
        info.name if info is not None else None,
    )


def _leaf(definition: GraphQLField) -> tuple[Callable[[Any], Any], bool] | None:
    """A scalar or enum field's output coercion and nullability; None for any other type."""
    type_ = definition.type
    nullable = not isinstance(type_, GraphQLNonNull)
    named = type_ if nullable else type_.of_type
    if not isinstance(named, GraphQLLeafType):
        return None
    return named.coerce_output_value, nullable


def _basic_attribute(definition: GraphQLField) -> str | None:
    """The attribute a basic Strawberry field reads, else None. Basic means Strawberry itself reads
    `getattr(source, python_name)` without an info: no resolver, no extension, no permission class.
    (Strawberry also marks a resolver-less field WITH permission classes `_is_default`: that mark
    alone must never make a field basic, or its permission check would be skipped.)"""
    resolve = definition.resolve
    strawberry_field = definition.extensions.get("strawberry-definition")
    if resolve is None or strawberry_field is None or getattr(resolve, "__name__", "") != "_get_basic_result":
        return None
    if not strawberry_field.is_basic_field or strawberry_field.permission_classes:
        return None
    if strawberry_field.default_resolver is not getattr:
        return None
    return str(strawberry_field.python_name)


def plan(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan:
    """The plan of one (validated) query operation of `document`, or Unplannable."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    if operation_name is None:
        if len(operations) != 1:
            raise Unplannable("operation")
        operation = operations[0]
    else:
        found = [o for o in operations if o.name is not None and o.name.value == operation_name]
        if not found:
            raise Unplannable("operation")
        operation = found[0]
    if operation.operation is not OperationType.QUERY or operation.directives or schema.query_type is None:
        raise Unplannable("not a query")
    if any(d.directives for d in operation.variable_definitions or ()):
        raise Unplannable("directive")
    return Plan(operation, _selection(schema, schema.query_type, [operation.selection_set], fragments))


class _Nulled:
    """A position of non-null type that could not be completed: the error travels up to the nearest
    nullable position, which becomes null and collects it (graphql-core's propagation)."""

    __slots__ = ("error",)

    def __init__(self, error: GraphQLError) -> None:
        self.error = error


class _Run:
    """One execution of a plan, on the executor graphql-core would have used (its coerced
    variables, resolve info, leaf coercion and error collection)."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.errors: list[GraphQLError] = []
        self.is_awaitable: Callable[[Any], bool] = executor.is_awaitable  # `is_awaitable` below

    def fail(self, raw: Exception, plan: FieldPlan, path: Path, absorb: bool) -> Any:
        """An error at `path`: collected here when the position is nullable (`absorb`), else passed up."""
        error = located_error(raw, plan.nodes, path.as_list())
        if not absorb:
            return _Nulled(error)
        self.errors.append(error)
        return None

    def absorb(self, nulled: _Nulled, path: Path) -> None:
        """A nullable position takes a failure from below: it becomes null and reports that error
        alone. graphql-core stops completing a position at its first failure (and cancels what is
        pending under it), so the errors other fields or rows under it raised are not reported."""
        prefix = path.as_list()
        depth = len(prefix)
        self.errors = [e for e in self.errors if list(e.path or ())[:depth] != prefix]
        self.errors.append(nulled.error)

    async def selection(self, selection: Selection, sources: list[Any], paths: list[Path | None]) -> list[Any]:
        """Complete `selection` on each source: a dict per source, or _Nulled. Field by field over the
        whole batch, so a resolver field's calls for every row are awaited together."""
        results: list[Any] = [{} for _ in sources]
        live = list(range(len(sources)))  # the sources not nulled yet
        for plan in selection.fields:
            if plan.definition is None:
                for i in live:
                    results[i][plan.key] = selection.type.name
                continue
            if plan.leaf is not None and self.plain_leaves(plan, sources, live, results):
                continue
            key, typename = plan.key, selection.type.name
            field_paths = [_path((paths[i], key, typename)) for i in live]
            values = await self.resolve(plan, [sources[i] for i in live], field_paths)
            completed = await self.complete(plan, plan.definition.type, values, field_paths)
            nulled = False
            for i, value in zip(live, completed, strict=True):
                if type(value) is _Nulled:
                    results[i] = value
                    nulled = True
                else:
                    results[i][plan.key] = value
            if nulled:
                live = [i for i in live if type(results[i]) is not _Nulled]
        return results

    def plain_leaves(self, plan: FieldPlan, sources: list[Any], live: list[int], results: list[Any]) -> bool:
        """A basic scalar field over the batch when every value is plain: read, coerced, stored, and
        True. At the first value that is not (a failed read, a null where none may be, an awaitable,
        a value the coercion refuses) nothing is stored and False sends the whole batch through
        `resolve` and `complete`, which answer it with graphql-core's errors. The hot loop of a page:
        no path and no list per value, where nothing can fail."""
        assert plan.leaf is not None and plan.attribute is not None
        coerce, nullable = plan.leaf
        attribute, is_awaitable = plan.attribute, self.is_awaitable
        out: list[Any] = []
        try:
            for i in live:
                value = getattr(sources[i], attribute)
                if value is None:
                    if not nullable:
                        return False
                    out.append(None)
                    continue
                if is_awaitable(value):
                    return False
                coerced = coerce(value)
                if coerced is None or coerced is Undefined:
                    return False
                out.append(coerced)
        except Exception:
            return False
        key = plan.key
        for i, value in zip(live, out, strict=True):
            results[i][key] = value
        return True

    async def resolve(self, plan: FieldPlan, sources: list[Any], paths: list[Path]) -> list[Any]:
        """The raw values of one field for each source (an Exception where resolving failed)."""
        values: list[Any] = []
        if plan.attribute is not None:
            attribute = plan.attribute
            for source in sources:
                try:
                    values.append(getattr(source, attribute))
                except Exception as error:  # located like any resolver error
                    values.append(error)
            return await self.settle(values)
        definition = plan.definition
        assert definition is not None
        resolve = plan.direct or definition.resolve or self.executor.field_resolver
        relation = plan.join
        for source, path in zip(sources, paths, strict=True):
            try:
                if relation is not None:
                    answer = joined(source, relation)  # the resolver's own answer for a joined row
                    if answer is not ...:
                        values.append(answer)
                        continue
                info = self.executor.build_resolve_info(definition, plan.nodes, plan.parent, path)
                arguments = (
                    get_argument_values(
                        definition,
                        plan.nodes[0],
                        self.executor.variable_values,
                        hide_suggestions=self.executor.hide_suggestions,
                    )
                    if plan.takes_arguments
                    else {}
                )
                values.append(resolve(source, info, **arguments))
            except Exception as error:
                values.append(error)
        return await self.settle(values)

    async def settle(self, values: list[Any]) -> list[Any]:
        """`values` with every awaitable among them awaited, together (an Exception where one failed)."""
        pending = [i for i, value in enumerate(values) if self.is_awaitable(value)]
        if len(pending) == 1:
            # One (a root field, a single row's relation): awaited here, without the task and
            # future `gather` would make for it. Not a cancellation: that still ends the request.
            (i,) = pending
            try:
                values[i] = await values[i]
            except Exception as error:
                values[i] = error
        elif pending:
            done = await asyncio.gather(*(values[i] for i in pending), return_exceptions=True)
            for i, value in zip(pending, done, strict=True):
                values[i] = value
        return values

    async def complete(
        self,
        plan: FieldPlan,
        return_type: GraphQLOutputType,
        values: list[Any],
        paths: list[Path],
        absorb: bool = True,
    ) -> list[Any]:
        """graphql-core's completeValue over a batch of values of one type. Under a non-null wrapper
        (`absorb` False) a failure stays _Nulled for the wrapper to pass up; a nullable position
        absorbs it: null, the error collected at its path."""
        if isinstance(return_type, GraphQLNonNull):
            inner = await self.complete(plan, return_type.of_type, values, paths, absorb=False)
            out: list[Any] = []
            for value, path in zip(inner, paths, strict=True):
                if value is None:
                    message = f"Cannot return null for non-nullable field {plan.parent.name}.{plan.name}."
                    value = _Nulled(located_error(TypeError(message), plan.nodes, path.as_list()))
                out.append(value)
            return out
        results: list[Any] = [None] * len(values)
        if isinstance(return_type, GraphQLLeafType):
            self.complete_leaves(plan, return_type, values, paths, absorb, results)
            return results
        objects: list[int] = []
        lists: list[int] = []
        # Where a value that did not fail goes, by the return type: decided once for the batch.
        composite = isinstance(return_type, GraphQLList | GraphQLObjectType)
        batch = lists if isinstance(return_type, GraphQLList) else objects
        for i, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, Exception):
                results[i] = self.fail(value, plan, paths[i], absorb)
            elif composite:
                batch.append(i)
            else:
                try:
                    results[i] = self.executor.complete_leaf_value(return_type, value)
                except Exception as error:
                    results[i] = self.fail(error, plan, paths[i], absorb)
        if objects:
            assert plan.selection is not None
            done = await self.selection(plan.selection, [values[i] for i in objects], [paths[i] for i in objects])
            for i, value in zip(objects, done, strict=True):
                results[i] = value
        if lists:
            await self.complete_lists(plan, return_type, values, paths, lists, results, absorb)
        if not absorb:
            return results
        for i, value in enumerate(results):
            if isinstance(value, _Nulled):
                self.absorb(value, paths[i])
                results[i] = None
        return results

    def complete_leaves(
        self,
        plan: FieldPlan,
        return_type: GraphQLLeafType,
        values: list[Any],
        paths: list[Path],
        absorb: bool,
        results: list[Any],
    ) -> None:
        """Leaf values coerced for output: the hot loop of a page, so the coercion is called directly,
        and graphql-core's `complete_leaf_value` only to raise its own error for a value it refuses."""
        coerce = return_type.coerce_output_value
        for i, value in enumerate(values):
            if value is None:
                continue
            try:
                if isinstance(value, Exception):
                    raise value
                coerced = coerce(value)
                results[i] = (
                    coerced
                    if coerced is not None and coerced is not Undefined
                    else (self.executor.complete_leaf_value(return_type, value))
                )
            except Exception as error:
                results[i] = self.fail(error, plan, paths[i], absorb)

    async def complete_lists(
        self,
        plan: FieldPlan,
        return_type: GraphQLOutputType,
        values: list[Any],
        paths: list[Path],
        lists: list[int],
        results: list[Any],
        absorb: bool,
    ) -> None:
        """Every item of every list in one batch of the item type."""
        assert isinstance(return_type, GraphQLList)
        items: list[Any] = []
        item_paths: list[Path] = []
        spans: list[tuple[int, int, int]] = []
        for i in lists:
            value = values[i]
            if self.executor.is_async_iterable(value):
                try:
                    value = [item async for item in value]
                except Exception as error:
                    results[i] = self.fail(error, plan, paths[i], absorb)
                    continue
            if not is_iterable(value):
                message = f"Expected Iterable, but did not find one for field '{plan.parent.name}.{plan.name}'."
                results[i] = self.fail(GraphQLError(message), plan, paths[i], absorb)
                continue
            start = len(items)
            for index, item in enumerate(value):
                items.append(item)
                item_paths.append(_path((paths[i], index, None)))
            spans.append((i, start, len(items)))
        completed = await self.complete(plan, return_type.of_type, await self.settle(items), item_paths)
        for i, start, end in spans:
            chunk = completed[start:end]
            failed = next((c for c in chunk if isinstance(c, _Nulled)), None)
            results[i] = failed if failed is not None else chunk


async def run(plan: Plan, executor: Any) -> ExecutionResult:
    """Execute `plan` with the executor graphql-core built for this request."""
    state = _Run(executor)
    root_value = executor.root_value
    (result,) = await state.selection(plan.root, [root_value], [None])
    if isinstance(result, _Nulled):
        state.errors.append(result.error)
        result = None
    executor.run_async_work_finished_hook()
    return ExecutionResult(result, state.errors or None)


class Planner:
    """Plans by schema, document text and operation name (None: the document falls back)."""

    def __init__(self) -> None:
        self.plans: OrderedDict[tuple[int, str, str | None], Plan | None] = OrderedDict()

    def get(self, schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan | None:
        source = document.loc.source.body if document.loc is not None else None
        if source is None:
            return None
        key = (id(schema), source, operation_name)
        if key in self.plans:
            self.plans.move_to_end(key)
            return self.plans[key]
        try:
            found: Plan | None = plan(schema, document, operation_name)
        except Unplannable:
            found = None
        self.plans[key] = found
        if len(self.plans) > MAX_PLANS:
            self.plans.popitem(last=False)
        return found


# Types whose values are never awaitable: most values of a page, answered without the general check.
# It grows by the value types met (`is_awaitable`): the schema's own classes, a bounded set.
_PLAIN: set[type] = {str, int, float, bool, type(None), date, datetime, UUID, Decimal, dict, list, tuple, JoinedRow}


def is_awaitable(value: Any) -> bool:
    """Strawberry's check, except that a Tortoise model instance is a value: awaiting one
    (`Model.__await__`) only hands back the instance, at the price of a task per row of a page. An
    enum member, an instance of a Strawberry type that defines no `__await__`, or of a class whose
    instances cannot be awaited at all (`_never_awaitable`), is a value too, and its class is
    remembered as such: a page asks this of every edge, related row and key."""
    kind = type(value)
    if kind in _PLAIN:
        return False
    if (
        issubclass(kind, Model | Enum)
        or (hasattr(kind, "__strawberry_definition__") and not hasattr(kind, "__await__"))
        or _never_awaitable(kind)
    ):
        _PLAIN.add(kind)
        return False
    return bool(optimized_is_awaitable(value))


def _never_awaitable(kind: type) -> bool:
    """Whether no instance of `kind` can be awaited, whatever its state: the class defines no
    `__await__`, its instances have no dictionary to be given one and no `__getattr__` to make one
    up, and it is no generator (an old-style coroutine is one). Slotted rows and keys such as a
    page's `KeysetEdge` or the driver's UUID."""
    return (
        kind.__dictoffset__ == 0
        and not hasattr(kind, "__await__")
        and not hasattr(kind, "__getattr__")
        and not issubclass(kind, GeneratorType)
    )


def compiled_execute(planner: Planner) -> Callable[..., Any]:
    """An `execute` for Strawberry (`Schema._get_execute_function`): the plan when the document has
    one and no extension wraps resolvers, else graphql-core's `execute` with the same arguments."""

    def execute_function(schema: GraphQLSchema, document: DocumentNode, **kwargs: Any) -> Any:
        kwargs["is_awaitable"] = is_awaitable
        middleware = kwargs.get("middleware")
        if middleware is not None and getattr(middleware, "middlewares", None):
            return execute(schema, document, **kwargs)
        found = planner.get(schema, document, kwargs.get("operation_name"))
        if found is None:
            return execute(schema, document, **kwargs)
        executor_class = kwargs.pop("executor_class")
        executor = executor_class.build(
            schema,
            document,
            kwargs.pop("root_value", None),
            kwargs.pop("context_value", None),
            kwargs.pop("variable_values", None),
            kwargs.pop("operation_name", None),
            **kwargs,
        )
        if isinstance(executor, list):
            return ExecutionResult(None, executor)
        return run(found, executor)

    return execute_function
