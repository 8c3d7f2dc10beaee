"""The differential test of the compiled plans (schema/compiled.py): the safety net of the fast path.

Every query document written in the test suite that runs without variable values, every query
document of the permission matrix, and for each of those a generated document selecting every field
of its root field's type a few levels deep (with a fragment, aliases and `__typename`), runs through
both paths (an app with `compiled_plans` and one without: the one also reads only the columns a
selection needs, schema/reads.py, the other every column) for every principal of the matrix world.
Data, errors and extensions (the request id and a token's remaining budget aside) must be identical;
the order of errors, which GraphQL leaves open, aside. Each execution runs in a savepoint undone
afterwards, so the PHI access event one path writes is not read by the other's audit query.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    print_ast,
    validate,
)
from tortoise.transactions import in_transaction

from app.main import create_app
from models.integrations import ApiToken
from models.sessions import Session
from schema import compiled as compiled_module
from schema.api import build_schema
from schema.compiled import Unplannable, plan, run
from tests.permissions.test_matrix import MATRIX, WORLD
from tests.permissions.world import build_world

DEPTH = 3


class _Undo(Exception):
    pass


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _everything(type_: GraphQLObjectType, depth: int) -> SelectionSetNode:
    """Every field of `type_` that takes no required argument, objects `depth` levels down."""
    selections: list[Any] = [FieldNode(name=NameNode(value="__typename"))]
    for name, field in type_.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) for arg in field.args.values()):
            continue
        named = _named(field.type)
        if isinstance(named, GraphQLObjectType):
            if depth > 0:
                selections.append(FieldNode(name=NameNode(value=name), selection_set=_everything(named, depth - 1)))
        elif not hasattr(named, "fields"):
            selections.append(FieldNode(name=NameNode(value=name)))
    return SelectionSetNode(selections=tuple(selections))


def _expanded(document: str) -> str | None:
    """The document with its (single) root field selecting everything, through a named fragment,
    and the same field again under an alias."""
    schema = build_schema(True)._schema
    assert schema.query_type is not None
    tree = parse(document)
    operation = tree.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    root = operation.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    named = _named(schema.query_type.fields[root.name.value].type)
    if not isinstance(named, GraphQLObjectType):
        return None
    fragment = FragmentDefinitionNode(
        name=NameNode(value="Everything"),
        type_condition=NamedTypeNode(name=NameNode(value=named.name)),
        selection_set=_everything(named, DEPTH),
    )
    spread = SelectionSetNode(selections=(FragmentSpreadNode(name=NameNode(value="Everything")),))
    whole = replace(root, selection_set=spread)
    again = replace(root, alias=NameNode(value="again"))
    expanded = replace(operation, selection_set=SelectionSetNode(selections=(whole, again)))
    return print_ast(DocumentNode(definitions=(expanded, fragment)))


def _suite_documents() -> list[str]:
    """Every query document written in the test suite that runs without variable values: string
    constants of tests/ that parse as one query operation, valid, with no required variable."""
    schema = build_schema(True)._schema
    found: set[str] = set()
    for path in sorted(Path(__file__).resolve().parent.parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and "{" in node.value):
                continue
            try:
                document = parse(node.value)
            except GraphQLError:
                continue
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
                continue
            required = [
                v
                for v in operations[0].variable_definitions or ()
                if isinstance(v.type, NonNullTypeNode) and not v.default_value
            ]
            if not required and not validate(schema, document):
                found.add(node.value)
    return sorted(found)


def _corpus(world: Any) -> list[tuple[str, dict[str, Any]]]:
    """The matrix's query documents, each also expanded, and the suite's own query documents;
    mutations are left out (they change what the other path would read, and never run through a plan)."""
    corpus: list[tuple[str, dict[str, Any]]] = [(document, {}) for document in _suite_documents()]
    seen: set[tuple[str, str]] = set()
    seen.update((document, repr([])) for document, _ in corpus)
    for case in MATRIX:
        document, variables = case.document(world)
        operation = parse(document).definitions[0]
        if not isinstance(operation, OperationDefinitionNode) or operation.operation is not OperationType.QUERY:
            continue
        for text in (document, _expanded(document)):
            if text is not None and (text, repr(sorted(variables.items()))) not in seen:
                seen.add((text, repr(sorted(variables.items()))))
                corpus.append((text, variables))
    return corpus


def _normalized(body: dict[str, Any]) -> dict[str, Any]:
    """The body without request ids and a token's remaining budget (the bucket drains between the
    two runs; the costs themselves must agree), its errors in a fixed order."""
    body = copy.deepcopy(body)
    (body.get("extensions") or {}).pop("requestId", None)
    ((body.get("extensions") or {}).get("cost") or {}).pop("throttleStatus", None)
    for error in body.get("errors") or ():
        (error.get("extensions") or {}).pop("requestId", None)
    if body.get("errors"):
        body["errors"].sort(key=lambda e: (repr(e.get("path")), e.get("message", "")))
    return body


async def _answer(app: Any, document: str, variables: dict[str, Any], token: str | None) -> tuple[int, dict]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    try:
        async with in_transaction():
            async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
                response = await http.post(
                    "/graphql", json={"query": document, "variables": variables}, headers=headers
                )
            raise _Undo(response)
    except _Undo as undo:
        response = undo.args[0]
    return response.status_code, _normalized(response.json())


def _plannable(schema: Any, document: str) -> bool:
    try:
        plan(schema, parse(document), None)
    except Unplannable:
        return False
    return True


async def test_compiled_plans_answer_exactly_as_graphql_core(settings, factory, monkeypatch) -> None:
    world = await build_world(factory, WORLD)
    # A budget the token cannot spend in this run: both paths must answer it alike, never one of them
    # after the other drained the shared bucket.
    settings = replace(settings, token_bucket_size=10**9, token_bucket_restore_rate=10**6)
    compiled = create_app(replace(settings, compiled_plans=True), manage_database=False, run_jobs=False)
    plain = create_app(replace(settings, compiled_plans=False), manage_database=False, run_jobs=False)
    corpus = _corpus(world)
    schema = build_schema(True)._schema
    plannable = {document for document, _ in corpus if _plannable(schema, document)}
    runs = []

    def counted(plan: Any, executor: Any) -> Any:
        runs.append(plan)
        return run(plan, executor)

    # The comparison proves something only if the plans ran: count them.
    monkeypatch.setattr(compiled_module, "run", counted)
    mismatches = []
    executed = 0
    for principal in world.principals:
        token = world.token(principal)
        # A session's last sight and a token's last use are written at most once a minute: mark them
        # now, before each principal's run (the whole run takes longer than a minute on a slow
        # machine), so neither path writes them (each run is undone, so each would write its own).
        now = datetime.now(UTC)
        await Session.all().update(last_seen_at=now)
        await ApiToken.all().update(last_used_at=now)
        for document, variables in corpus:
            expected = await _answer(plain, document, variables, token)
            before = len(runs)
            actual = await _answer(compiled, document, variables, token)
            # Executed (not refused by the limits before execution) and plannable: through a plan.
            body = expected[1]
            ran = document in plannable and (
                body.get("data") is not None or any(e.get("path") for e in body.get("errors") or ())
            )
            executed += ran
            if actual != expected or len(runs) != before + ran:
                mismatches.append((principal, document, variables, expected, actual, len(runs) - before))
    assert not mismatches, mismatches[:3]
    assert len(corpus) > 40 and executed > 0.8 * len(corpus) * len(world.principals), (executed, len(corpus))
