"""The committed schema.graphql is what the code exports (regenerate with `make schema`)."""

from pathlib import Path

from schema.api import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    exported = build_schema(True).as_str() + "\n"
    assert SCHEMA_FILE.read_text() == exported, "schema/schema.graphql is stale: run `make schema` and commit it"


def test_the_installed_command_exports_the_same_schema_from_any_directory(tmp_path: Path) -> None:
    """Strawberry resolves lazy types in import order: the installed `tessera` (run outside the
    checkout, so packages load through the install, not the working directory) must build it too."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "export-schema"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == SCHEMA_FILE.read_text()
