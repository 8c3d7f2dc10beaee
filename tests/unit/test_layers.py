"""docs/architecture.md "Layers and the one-way flow": app → schema → resolvers → permissions + models.
Read from the source (no import runs): nothing imports a layer above its own, and raw SQL goes
through `models/sql.py` alone (no `tortoise.connections`, no `app.db`, above the models)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("app", "schema", "resolvers", "permissions", "models")  # each may import only those after it
RANK = {name: i for i, name in enumerate(LAYERS)}
# The settings object is plain configuration that resolvers read (the request's settings, the
# public URL of mail links); named here so that any other upward import fails.
ALLOWED_UPWARD = {("resolvers/context.py", "app.settings"), ("resolvers/outbox.py", "app.settings")}


def _imports(path: Path) -> set[str]:
    """Modules `path` imports, with `from tortoise import connections` as `tortoise.connections`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _sources(layer: str) -> list[Path]:
    return [p for p in sorted((ROOT / layer).rglob("*.py")) if "migrations" not in p.parts]


def test_nothing_imports_a_layer_above_its_own() -> None:
    upward = []
    for layer in LAYERS[1:]:
        for path in _sources(layer):
            name = path.relative_to(ROOT).as_posix()
            for module in _imports(path):
                top = module.split(".")[0]
                allowed = any(name == n and module.startswith(m) for n, m in ALLOWED_UPWARD)
                if top in RANK and RANK[top] < RANK[layer] and not allowed:
                    upward.append(f"{name} imports {module}")
    assert not upward, upward


def test_raw_sql_goes_through_models_sql() -> None:
    raw = [
        f"{path.relative_to(ROOT).as_posix()} imports {module}"
        for layer in ("schema", "resolvers", "permissions")
        for path in _sources(layer)
        for module in _imports(path)
        if module in {"tortoise.connections", "app.db"} or module.startswith("app.db.")
    ]
    assert not raw, raw
    assert not [
        p for layer in ("schema", "resolvers", "permissions") for p in _sources(layer) if "._db." in p.read_text()
    ], "a private Tortoise connection used above the models"


def _calls_in_chain(node: ast.AST) -> list[str]:
    """The method names of a call chain, innermost first: `a.b().c()` gives ["b", "c"]."""
    names: list[str] = []
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        names.append(node.func.attr)
        node = node.func.value
    return list(reversed(names))


def test_no_lock_is_taken_by_a_values_query() -> None:
    """Tortoise drops FOR UPDATE from a `select_for_update()` query read with `.values()` or
    `.values_list()` (STACK-NOTES): such a "lock" locks nothing. One let two merges of a pair run at
    once and deadlock; this reads every chain of the code for another."""
    found = []
    for layer in LAYERS:
        for path in _sources(layer):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                chain = _calls_in_chain(node)
                if "select_for_update" in chain and {"values", "values_list"} & set(
                    chain[chain.index("select_for_update") :]
                ):
                    found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}")
    assert not found, found
