"""`requires(...)` documents access: every root field's description in the exported schema says what it
needs ("Requires: ..."), naming each permission its permission class checks."""

from __future__ import annotations

from permissions.catalog import Permission
from permissions.classes import requires
from schema.api import build_schema


def test_requires_appends_the_access_rule_to_the_description() -> None:
    kwargs = requires(Permission.USERS_READ, Permission.AUDIT_READ, description="Some rows.")
    assert kwargs["description"] == (
        "Some rows.\n\nRequires: USERS_READ (at some location; rows are scoped), AUDIT_READ (organization-wide)."
    )
    assert requires()["description"] == "Requires: an authenticated session. Not for API tokens."
    assert requires(tokens=True)["description"] == "Requires: an authenticated session."
    assert [c.permissions for c in kwargs["permission_classes"]] == [(Permission.USERS_READ, Permission.AUDIT_READ)]


def test_every_root_field_documents_what_it_requires() -> None:
    schema = build_schema(True)._schema
    undocumented = []
    for root in (schema.query_type, schema.mutation_type):
        for name, field in root.fields.items():
            text = field.description or ""
            definition = field.extensions.get("strawberry-definition")
            needed = [p for c in definition.permission_classes for p in getattr(c, "permissions", ())]
            if "Requires:" not in text or any(p.value not in text.split("Requires:")[-1] for p in needed):
                undocumented.append(name)
    assert not undocumented, f"root fields whose description does not say what they require: {undocumented}"
