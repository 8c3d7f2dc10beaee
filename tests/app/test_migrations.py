"""The checked-in migrations build the whole schema from empty, and the models hold no change they miss."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise import Tortoise, connections

from models.sql import write_returning
from tests.app.support import ROOT, environment, table_names, tessera
from tests.support import orm

if TYPE_CHECKING:
    from tests.support import TestDatabase

# Run in a separate process: the autodetector initialises the ORM, which this process already uses.
AUTODETECT = """
import asyncio, json, sys
from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector
from app.db import tortoise_config

async def main(url):
    config = tortoise_config(url)
    async with tortoise_cli_context(config) as ctx:
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    print(json.dumps({w.app_label: [repr(op) for op in w.operations] for w in writers}))

asyncio.run(main(sys.argv[1]))
"""


async def _columns(table: str) -> set[str]:
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_name = $1", [table]
        )
    else:
        rows = await conn.execute_query_dict(f'PRAGMA table_info("{table}")')
    return {row["name"] for row in rows}


async def _indexes(table: str) -> dict[tuple[str, ...], bool]:
    """Each index of `table` as its column tuple, mapped to whether it is unique."""
    conn = connections.get("default")
    found: dict[tuple[str, ...], bool] = {}
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            """SELECT i.relname AS name, x.indisunique AS uniq, a.attname AS col, k.n AS pos
               FROM pg_index x
               JOIN pg_class t ON t.oid = x.indrelid
               JOIN pg_class i ON i.oid = x.indexrelid
               CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
               WHERE t.relname = $1 ORDER BY i.relname, k.n""",
            [table],
        )
        by_name: dict[str, list] = {}
        for row in rows:
            by_name.setdefault(row["name"], []).append(row)
        for cols in by_name.values():
            found[tuple(r["col"] for r in cols)] = bool(cols[0]["uniq"])
        return found
    for index in await conn.execute_query_dict(f'PRAGMA index_list("{table}")'):
        cols = await conn.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
        found[tuple(c["name"] for c in sorted(cols, key=lambda c: c["seqno"]))] = bool(index["unique"])
    return found


def _column_names(model, names) -> tuple[str, ...]:
    projection = model._meta.fields_db_projection
    return tuple(projection.get(name, name) for name in names)


async def test_migrate_from_empty_builds_every_table_column_and_index(fresh_database: TestDatabase) -> None:
    result = await tessera("migrate", database_url=fresh_database.url)
    assert result.returncode == 0, result.stderr
    async with orm(fresh_database.url):
        tables = set(await table_names())
        models = [model for app in Tortoise.apps.values() for model in app.values()]
        assert len(models) >= 10, models
        for model in models:
            table = model._meta.db_table
            assert table in tables, f"{model.__name__}: table {table} is missing"
            missing = set(model._meta.fields_db_projection.values()) - await _columns(table)
            assert not missing, f"{table}: columns {missing} are missing"
            indexes = await _indexes(table)
            for names in model._meta.unique_together or ():
                columns = _column_names(model, names)
                assert indexes.get(columns) is True, f"{table}: no unique index on {columns}"
            for index in model._meta.indexes or ():
                columns = _column_names(model, getattr(index, "fields", index))
                assert columns in indexes, f"{table}: no index on {columns}; it has {sorted(indexes)}"


async def test_the_models_have_no_change_missing_from_the_migrations(tmp_path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        AUTODETECT,
        f"sqlite://{tmp_path / 'autodetect.sqlite3'}",
        cwd=ROOT,
        env=environment(f"sqlite://{tmp_path / 'unused.sqlite3'}"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    changes = json.loads(out.decode().strip().splitlines()[-1])
    assert changes == {}, (
        "the models changed without a migration: add one with makemigrations "
        f"(see the README):\n{json.dumps(changes, indent=2)}"
    )


# Indexes the job runner scans across every organization (due mail, due deactivations): the one
# place a leading organization_id would defeat the index.
CROSS_ORGANIZATION_JOB_INDEXES = {
    ("outbox_messages", ("status", "next_attempt_at")),
    ("providers", ("status", "deactivate_at")),
}


async def test_data_rules_uuid_keys_organization_first_and_versions(db) -> None:
    """docs/architecture.md "Data": UUID primary keys; organization_id first in every composite index (unique ones
    too) of a tenant table; a version column on the mutable aggregates (optimistic concurrency)."""
    from tortoise import fields

    models = {m.__name__: m for app in Tortoise.apps.values() for m in app.values()}
    for model in models.values():
        meta = model._meta
        assert isinstance(meta.fields_map[meta.pk_attr], fields.UUIDField), f"{meta.db_table}: key is not a UUID"
        if "organization_id" not in meta.fields_db_projection.values() or meta.db_table == "organizations":
            continue
        for index in (*(meta.indexes or ()), *(meta.unique_together or ())):
            names = _column_names(model, getattr(index, "fields", index))
            if len(names) > 1 and (meta.db_table, names) not in CROSS_ORGANIZATION_JOB_INDEXES:
                assert names[0] == "organization_id", f"{meta.db_table}: index {names} does not lead with it"
    for name in ("User", "Provider", "Client", "Location", "PermissionGroup"):
        assert "version" in models[name]._meta.fields_map, f"{name} has no version column"


SQUASHED = "0001_squashed_0006_integrations"
REPLACED = (
    "0001_initial",
    "0002_outbox_link_expiry",
    "0003_provider_billing_number_unique",
    "0004_client_portal",
    "0005_client_merges",
    "0006_integrations",
)


async def _migrate_to(url: str, name: str) -> None:
    """Run Tortoise's own `migrate` up to (and including) migration `name`."""
    await _tortoise(url, "migrate", "models", name)


async def _tortoise(url: str, *command: str) -> None:
    """Run Tortoise's own command line (`migrate`, `downgrade`) on `url`."""
    process = await asyncio.create_subprocess_exec(
        str(ROOT / ".venv" / "bin" / "tortoise"),
        "-c",
        "app.tortoise_conf.TORTOISE_ORM",
        *command,
        env=environment(url),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()


async def _history(names: tuple[str, ...]) -> None:
    """Make the recorded history say exactly `names` ran (the squash's tables already stand)."""
    conn = connections.get("default")
    await conn.execute_query("DELETE FROM tortoise_migrations")
    for name in names:
        await write_returning(
            "INSERT INTO tortoise_migrations (app, name, applied_at) VALUES (?, ?, ?) RETURNING id",
            ["models", name, datetime(2026, 11, 20, tzinfo=UTC)],
        )


async def _recorded() -> set[str]:
    rows = await connections.get("default").execute_query_dict("SELECT name FROM tortoise_migrations")
    return {row["name"] for row in rows}


async def test_a_database_that_ran_the_six_squashed_migrations_is_adopted_not_rebuilt(
    fresh_database: TestDatabase,
) -> None:
    """A deployment made before the squash holds the six migrations' tables and their history:
    `migrate` records the squash as applied and goes on (0007), keeping every row. The squash builds
    what the six built (checked when it was made: the same columns, indexes and constraints, names
    included, and on PostgreSQL the same comments; only SQLite's column order differs)."""
    await _migrate_to(fresh_database.url, SQUASHED)
    org, at = str(uuid.uuid4()), datetime(2026, 11, 2, 10, tzinfo=UTC)
    async with orm(fresh_database.url):
        await _history(REPLACED)
        await write_returning(
            "INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            [org, "Old clinic", "old-clinic", at, at],
        )
    for _ in range(2):  # and a second run finds nothing to do
        result = await tessera("migrate", database_url=fresh_database.url)
        assert result.returncode == 0, result.stderr
    async with orm(fresh_database.url):
        assert await _recorded() == {SQUASHED, "0007_merge_invitation_tokens"}
        assert "invitation_tokens" in await _columns("client_merges")
        assert await connections.get("default").execute_query_dict("SELECT slug FROM organizations") == [
            {"slug": "old-clinic"}
        ]


async def test_an_adoption_cut_short_is_finished(fresh_database: TestDatabase) -> None:
    """The squash's row is written before the replaced ones are removed: a run that stopped between
    the two leaves both, and the next run only removes the old ones."""
    await _migrate_to(fresh_database.url, SQUASHED)
    async with orm(fresh_database.url):
        await _history((*REPLACED, SQUASHED))
    result = await tessera("migrate", database_url=fresh_database.url)
    assert result.returncode == 0, result.stderr
    async with orm(fresh_database.url):
        assert await _recorded() == {SQUASHED, "0007_merge_invitation_tokens"}


async def test_an_adopted_database_rolled_all_the_way_back_is_built_again(fresh_database: TestDatabase) -> None:
    """Adoption leaves the history as if the squash had always been there: a full downgrade then
    leaves none of it, and the next migrate builds everything (six stale rows would instead have the
    squash recorded over missing tables)."""
    await _migrate_to(fresh_database.url, SQUASHED)
    async with orm(fresh_database.url):
        await _history(REPLACED)
    assert (await tessera("migrate", database_url=fresh_database.url)).returncode == 0
    await _tortoise(fresh_database.url, "downgrade", "models")  # every migration unapplied
    async with orm(fresh_database.url):
        assert await _recorded() == set()
    result = await tessera("migrate", database_url=fresh_database.url)
    assert result.returncode == 0, result.stderr
    async with orm(fresh_database.url):
        assert "invitation_tokens" in await _columns("client_merges")


async def test_a_database_that_stopped_inside_the_squash_is_refused_in_one_line(
    fresh_database: TestDatabase,
) -> None:
    """Its missing steps are no longer shipped and the squash cannot run on top of half of it: say
    so and which, change nothing (no traceback)."""
    await _migrate_to(fresh_database.url, SQUASHED)
    async with orm(fresh_database.url):
        await _history(REPLACED[:3])
    result = await tessera("migrate", database_url=fresh_database.url)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"tessera: this database ran only part of {SQUASHED}: 0004_client_portal, 0005_client_merges, "
        "0006_integrations are missing and no longer shipped; migrate it with an earlier Tessera release first"
    ]
    async with orm(fresh_database.url):
        assert await _recorded() == set(REPLACED[:3])
        assert "invitation_tokens" not in await _columns("client_merges")


async def test_migrating_a_database_that_holds_rows_adds_columns_they_can_live_with(
    fresh_database: TestDatabase,
) -> None:
    """A deployment upgrades a database with data in it: a column added to a table with rows must take
    a value the rows can have (null, or a database default), which a migration run on empty tables
    never shows. Here: a client merge recorded before `invitation_tokens` was kept (0007)."""
    await _migrate_to(fresh_database.url, SQUASHED)
    org, merge, at = str(uuid.uuid4()), str(uuid.uuid4()), datetime(2026, 11, 2, 10, tzinfo=UTC)
    async with orm(fresh_database.url):
        await write_returning(
            "INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
            [org, "Old clinic", "old-clinic", at, at],
        )
        await write_returning(
            "INSERT INTO client_merges (id, organization_id, source_id, target_id, source_status, filled, moved_links,"
            " dropped_links, moved_invitations, merged_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [merge, org, str(uuid.uuid4()), str(uuid.uuid4()), "PENDING_REVIEW", "{}", "[]", "[]", "[]", at],
        )
    result = await tessera("migrate", database_url=fresh_database.url)
    assert result.returncode == 0, result.stderr
    async with orm(fresh_database.url):
        from models.merges import ClientMerge

        kept = await ClientMerge.get(id=merge)
        assert kept.invitation_tokens is None and kept.moved_invitations == []
