"""The committed schema.graphql is what the code exports (regenerate with `make schema`)."""

from pathlib import Path

from schema.api import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    exported = build_schema(True).as_str() + "\n"
    assert SCHEMA_FILE.read_text() == exported, "schema/schema.graphql is stale: run `make schema` and commit it"
