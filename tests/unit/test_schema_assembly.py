"""schema/api.py names each domain's root types by plain import: a domain module that defines a
`Query` or `Mutation` but is left out of the merge fails here, instead of its fields silently
missing from the API."""

from __future__ import annotations

import importlib
import pkgutil

import schema
from schema.api import build_schema


def test_every_domain_root_type_is_merged() -> None:
    built = build_schema(True)
    roots = {kind: {f.python_name for f in built.get_type_by_name(kind).fields} for kind in ("Query", "Mutation")}
    missing = []
    for info in pkgutil.iter_modules(schema.__path__):
        module = importlib.import_module(f"schema.{info.name}")
        for kind, merged in roots.items():
            root = getattr(module, kind, None)
            definition = getattr(root, "__strawberry_definition__", None)
            if definition is None or module.__name__ == "schema.api":
                continue
            if not {f.python_name for f in definition.fields} <= merged:
                missing.append(f"schema.{info.name}.{kind}")
    assert not missing, f"root types not merged in schema/api.py: {missing}"
