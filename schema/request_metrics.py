"""Counting each GraphQL request into the Prometheus metrics (resolvers/metrics.py): its outcome,
its latency and the SQL statements it sent, labelled by an operation name taken from the schema
(type and root field), never from the caller: `operationName` is input, and a label per value would
let anyone grow the metrics without bound."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, GraphQLSchema
from strawberry.extensions import SchemaExtension

from resolvers import metrics
from schema.compiled import MAX_PLANS
from schema.limits import select_operation

# The first matching code decides: the gravest outcome a response holds.
_BY_CODE = (
    ("INTERNAL_SERVER_ERROR", "internal"),
    ("SERVICE_UNAVAILABLE", "unavailable"),
    ("RATE_LIMITED", "rate_limited"),
    ("QUERY_TOO_COMPLEX", "too_complex"),
    ("UNAUTHENTICATED", "unauthenticated"),
    ("FORBIDDEN", "forbidden"),
)


# Labels by (schema, document text, operation name): an app sends a handful of documents. As many as
# the plans (schema/compiled.py), so the texts kept are mostly the ones the plans keep already.
_LABELS: OrderedDict[tuple[int, str, str | None], str] = OrderedDict()
MAX_LABELS = MAX_PLANS


def operation_label(schema: GraphQLSchema, document: Any, operation_name: str | None) -> str:
    """`query:clients`, `mutation:createClient`; `query:(several)` for more than one root field;
    `(invalid)` when the document names no operation of this schema. Worked out once a document."""
    source = document.loc.source.body if document is not None and document.loc is not None else None
    if source is None:
        return _label(schema, document, operation_name)
    key = (id(schema), source, operation_name)
    label = _LABELS.get(key)
    if label is not None:
        _LABELS.move_to_end(key)
        return label
    label = _LABELS[key] = _label(schema, document, operation_name)
    if len(_LABELS) > MAX_LABELS:
        _LABELS.popitem(last=False)  # least recently used out
    return label


def _label(schema: GraphQLSchema, document: Any, operation_name: str | None) -> str:
    operation = select_operation(document, operation_name) if document is not None else None
    if operation is None:
        return "(invalid)"
    kind = operation.operation.value
    root = schema.get_root_type(operation.operation)
    names = {s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)}
    if root is None or not names or not names <= set(root.fields) | {"__typename", "__schema", "__type"}:
        return f"{kind}:(invalid)"
    return f"{kind}:{names.pop()}" if len(names) == 1 else f"{kind}:(several)"


def outcome(result: Any) -> str:
    codes = {(e.extensions or {}).get("code") for e in getattr(result, "errors", None) or ()}
    for code, name in _BY_CODE:
        if code in codes:
            return name
    if codes:
        return "user_error"
    data = getattr(result, "data", None) or {}
    if any(isinstance(v, dict) and v.get("errors") for v in data.values()):
        return "user_error"  # a mutation payload's UserErrors
    return "ok"


class RequestMetrics(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        counter = [0]
        token = metrics.statements.set(counter)
        try:
            yield
        finally:
            metrics.statements.reset(token)
        execution = self.execution_context
        label = operation_label(execution.schema._schema, execution.graphql_document, execution.operation_name)
        requests, latency = metrics.request_counters(label, outcome(execution.result))
        requests.inc()
        latency.observe(time.perf_counter() - started)
        metrics.STATEMENTS.observe(counter[0])
        # Every request, not now and then: a worker's last reading is what its gauge shows until its
        # next request, and the scrape refreshes only the worker that answers it.
        metrics.refresh_pool()
