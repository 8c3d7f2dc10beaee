"""The client fields a portal account never reads have two homes that must agree: the schema answers
them through `staff_column` (null and FORBIDDEN for a portal account), and the resolvers' rules read
`STAFF_ONLY_FIELDS` (a merge that fills only those shows nothing to the survivor's portal accounts)."""

from __future__ import annotations

from resolvers.client_input import STAFF_ONLY_FIELDS
from schema.clients import Client


def test_staff_only_fields_are_the_schemas_staff_columns() -> None:
    fields = Client.__strawberry_definition__.fields  # type: ignore[attr-defined]
    staff_columns = {
        f.python_name
        for f in fields
        if f.base_resolver is not None and f.base_resolver.wrapped_func.__qualname__ == "staff_column.<locals>.resolve"
    }
    assert staff_columns == STAFF_ONLY_FIELDS
