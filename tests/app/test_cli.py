"""The real `tessera` command, run as a separate process on an empty database of the run's backend."""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from models.organization import Organization
from models.users import User
from permissions.catalog import Permission
from tests.app.support import ROOT, table_counts, table_names, tessera
from tests.factories import PASSWORD
from tests.support import orm

if TYPE_CHECKING:
    from tests.support import TestDatabase

LOGIN = """mutation($slug: String!, $u: String!, $p: String!) {
  login(input: {organizationSlug: $slug, username: $u, password: $p}) { token errors { code message } }
}"""


def one_line(stderr: str) -> str:
    """A refusal is one line that says what is wrong, never a traceback."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and lines[0].startswith("tessera: ")
    return lines[0]


async def create_org(database: TestDatabase, *extra: str, slug: str = "north", password: str = PASSWORD):
    return await tessera(
        "create-organization",
        "--name",
        "North Clinic",
        "--slug",
        slug,
        "--admin-username",
        "chief",
        "--admin-password",
        password,
        *extra,
        database_url=database.url,
    )


async def test_migrate_from_empty_and_again(fresh_database: TestDatabase) -> None:
    first = await tessera("migrate", database_url=fresh_database.url)
    assert first.returncode == 0, first.stderr
    assert "database is up to date" in first.stdout
    async with orm(fresh_database.url):
        tables = await table_names()
        before = await table_counts()
    assert {"organizations", "users", "outbox_messages"} <= set(tables)

    again = await tessera("migrate", database_url=fresh_database.url)
    assert again.returncode == 0, again.stderr
    async with orm(fresh_database.url):
        assert await table_counts() == before, "a second migrate changes nothing"


async def test_create_organization_prints_ids_and_its_admin_can_log_in(fresh_database: TestDatabase) -> None:
    result = await create_org(fresh_database, "--seat-limit", "7", "--admin-email", "Chief@North.example")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == {"organizationId", "slug", "adminUserId"} and created["slug"] == "north"
    uuid.UUID(created["organizationId"]), uuid.UUID(created["adminUserId"])

    async with orm(fresh_database.url):
        organization = await Organization.get(id=created["organizationId"])
        admin = await User.get(id=created["adminUserId"])
        assert organization.seat_limit == 7 and organization.name == "North Clinic"
        assert admin.is_admin and not admin.password_reset_required and admin.email == "Chief@north.example"

        app = create_app(Settings(database_url=fresh_database.url), manage_database=False, run_jobs=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tessera.test") as http:
            login = await http.post(
                "/graphql", json={"query": LOGIN, "variables": {"slug": "north", "u": "chief", "p": PASSWORD}}
            )
            payload = login.json()["data"]["login"]
            assert payload["errors"] == [] and payload["token"].startswith("tss_")
            viewer = await http.post(
                "/graphql",
                json={"query": "{ viewer { user { username } organization { name } } }"},
                headers={"authorization": f"Bearer {payload['token']}"},
            )
            assert viewer.json()["data"]["viewer"] == {
                "user": {"username": "chief"},
                "organization": {"name": "North Clinic"},
            }
            # Its admin holds every permission of the catalogue, everywhere.
            held = await http.post(
                "/graphql",
                json={"query": "{ viewer { permissions { permission allLocations } } }"},
                headers={"authorization": f"Bearer {payload['token']}"},
            )
            permissions = held.json()["data"]["viewer"]["permissions"]
            assert {p["permission"] for p in permissions} == {p.value for p in Permission}
            assert all(p["allLocations"] for p in permissions)


async def test_the_admin_password_may_come_from_standard_input(fresh_database: TestDatabase) -> None:
    """Not on the command line, where `ps` and shell history see it: piped with --admin-password-stdin."""
    args = ("create-organization", "--name", "South", "--slug", "south", "--admin-username", "chief")
    result = await tessera(*args, "--admin-password-stdin", database_url=fresh_database.url, stdin=PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    async with orm(fresh_database.url):
        app = create_app(Settings(database_url=fresh_database.url), manage_database=False, run_jobs=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tessera.test") as http:
            login = await http.post(
                "/graphql", json={"query": LOGIN, "variables": {"slug": "south", "u": "chief", "p": PASSWORD}}
            )
            assert login.json()["data"]["login"]["errors"] == []

    # Neither the option nor a terminal to ask at: one line saying how, and nothing created.
    missing = await tessera(*args[:-1], "quiet", database_url=fresh_database.url)
    assert missing.returncode != 0 and "--admin-password-stdin" in one_line(missing.stderr)
    empty = await tessera(*args[:-1], "quiet", "--admin-password-stdin", database_url=fresh_database.url, stdin="")
    assert empty.returncode != 0 and "password" in one_line(empty.stderr)
    both = await tessera(
        *args, "--admin-password", PASSWORD, "--admin-password-stdin", database_url=fresh_database.url, stdin=PASSWORD
    )
    assert both.returncode != 0
    async with orm(fresh_database.url):
        assert await User.filter(username="quiet").count() == 0


def test_the_admin_password_prompt_asks_twice(monkeypatch) -> None:
    """In a terminal, without --admin-password, the password is asked for (not echoed) and confirmed."""
    import argparse

    from app import cli

    answers = iter([PASSWORD, PASSWORD, PASSWORD, "something-else-entirely-99"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: True)
    args = argparse.Namespace(admin_password=None, admin_password_stdin=False)
    assert cli.admin_password(args) == PASSWORD
    with pytest.raises(cli.InputError, match="do not match"):
        cli.admin_password(args)


async def test_reset_password_is_the_only_admins_way_back(fresh_database: TestDatabase) -> None:
    """The API refuses resetCredentials on oneself (a session is not the password), so an organization
    whose only admin forgot the password needs the operator: `tessera reset-password` sets it from
    standard input, forces a change at the next login, ends the admin's sessions and is audited."""
    from models.audit import AuditEvent
    from models.enums import LoginOutcome
    from models.sessions import LoginAttempt, Session

    assert (await create_org(fresh_database)).returncode == 0
    new = "harbour-kettle-violet-58"
    async with orm(fresh_database.url):
        admin = await User.get(username="chief")
        await Session.create(
            organization_id=admin.organization_id,
            user=admin,
            token_hash="0" * 64,
            last_seen_at=admin.created_at,
            expires_at=admin.created_at.replace(year=admin.created_at.year + 1),
        )
        # The admin guessed twenty times and is locked out from everywhere: the reset lifts that too.
        now = int(time.time())
        for n in range(20):
            await LoginAttempt.create(
                organization_id=admin.organization_id,
                username_key="chief",
                ip_address=f"198.51.100.{n // 4 + 1}",
                outcome=LoginOutcome.FAILED,
                user_locked_until=now + 900 if n == 19 else None,
                created_at=now,
            )
    args = ("reset-password", "--org", "North", "--username", "Chief")
    result = await tessera(*args, "--password-stdin", database_url=fresh_database.url, stdin=new + "\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["passwordResetRequired"] is True and new not in result.stdout + result.stderr
    assert "cannotLogIn" not in json.loads(result.stdout)
    async with orm(fresh_database.url):
        admin = await User.get(username="chief")
        assert admin.password_reset_required
        assert not await Session.filter(user_id=admin.id, revoked_at__isnull=True).exists()
        event = await AuditEvent.get(action="user.credentials_reset", target_id=admin.id)
        assert event.actor_kind.value == "SYSTEM" and event.actor_name == "cli:reset-password"
        app = create_app(Settings(database_url=fresh_database.url), manage_database=False, run_jobs=False)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tessera.test") as http:
            old = await http.post(
                "/graphql", json={"query": LOGIN, "variables": {"slug": "north", "u": "chief", "p": PASSWORD}}
            )
            assert [e["code"] for e in old.json()["data"]["login"]["errors"]] == ["INVALID_CREDENTIALS"]
            login = await http.post(
                "/graphql", json={"query": LOGIN, "variables": {"slug": "north", "u": "chief", "p": new}}
            )
            assert login.json()["data"]["login"]["errors"] == [] and login.json()["data"]["login"]["token"]

    # A user the new password does not let in is named as such.
    async with orm(fresh_database.url):
        await User.filter(username="chief").update(is_active=False)
    inactive = await tessera(*args, "--password", new + "x", database_url=fresh_database.url)
    assert inactive.returncode == 0 and json.loads(inactive.stdout)["cannotLogIn"] == "ACCOUNT_INACTIVE"

    # Bad input: one line, nothing changed.
    nobody = await tessera(
        "reset-password", "--org", "north", "--username", "ghost", "--password", new, database_url=fresh_database.url
    )
    assert nobody.returncode == 1 and "ghost" in one_line(nobody.stderr)
    for org, user in (("n" * 80, "chief"), ("north", "u" * 200)):  # longer than any slug or username
        overlong = await tessera(
            "reset-password", "--org", org, "--username", user, "--password", new, database_url=fresh_database.url
        )
        assert overlong.returncode == 1 and "No user" in one_line(overlong.stderr)
    weak = await tessera(*args, "--password", "short", database_url=fresh_database.url)
    assert weak.returncode == 1 and "tessera: " in one_line(weak.stderr)
    missing = await tessera(*args, database_url=fresh_database.url)
    assert missing.returncode != 0 and "--password-stdin" in one_line(missing.stderr)


async def test_a_duplicate_slug_is_one_line_and_exits_non_zero(fresh_database: TestDatabase) -> None:
    assert (await create_org(fresh_database)).returncode == 0
    again = await create_org(fresh_database)
    assert again.returncode != 0 and again.stdout == ""
    assert "slug" in one_line(again.stderr) and "already taken" in again.stderr
    async with orm(fresh_database.url):
        assert await Organization.filter(slug="north").count() == 1


async def test_a_weak_password_is_one_line_and_creates_nothing(fresh_database: TestDatabase) -> None:
    result = await create_org(fresh_database, password="short")
    assert result.returncode != 0 and result.stdout == ""
    one_line(result.stderr)
    async with orm(fresh_database.url):
        assert not await Organization.exists()


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (("--name", "N" * 201), "organization name"),
        (("--admin-last-name", "L" * 101), "last name"),
        (("--admin-first-name", "  "), "first name"),
        (("--slug", "North Clinic"), "slug"),
        (("--seat-limit", "0"), "seat limit"),
    ],
)
async def test_bad_organization_input_is_one_line_and_creates_nothing(
    fresh_database: TestDatabase, extra: tuple[str, ...], says: str
) -> None:
    """Each refused value is named in one line (a name too long for its column was a traceback)."""
    result = await create_org(fresh_database, *extra)
    assert result.returncode == 1 and result.stdout == ""
    assert says in one_line(result.stderr)
    async with orm(fresh_database.url):
        assert not await Organization.exists() and not await User.exists()


async def test_an_unreachable_database_is_one_line_without_its_password() -> None:
    result = await tessera("migrate", database_url="postgres://tessera:hunter2-secret@127.0.0.1:1/nowhere")
    assert result.returncode == 1
    assert "database postgres://tessera@127.0.0.1:1/nowhere" in one_line(result.stderr)
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TESSERA_SESSION_IDLE_SECONDS", "half an hour"),
        ("TESSERA_ENV", "staging"),
        ("TESSERA_DATABASE_URL", "mysql://db.example/tessera"),
        ("TESSERA_SMTP_URL", "http://mail.example"),
    ],
)
async def test_a_bad_setting_exits_2_naming_the_variable(tmp_path, variable: str, value: str) -> None:
    settings = {"database_url": f"sqlite://{tmp_path / 'x.sqlite3'}", variable: value}
    result = await tessera("migrate", **settings)
    assert result.returncode == 2
    assert variable in one_line(result.stderr)
    assert not (tmp_path / "x.sqlite3").exists(), "nothing ran"


async def test_demo_twice_changes_nothing_the_second_time(fresh_database: TestDatabase) -> None:
    first = await tessera("demo", database_url=fresh_database.url)
    assert first.returncode == 0, first.stderr
    assert "Demo logins" in first.stdout and "admin" in first.stdout
    # One headline a run: loaded now, or loaded before.
    assert "Demo clinic loaded" in first.stdout and "already loaded" not in first.stdout
    async with orm(fresh_database.url):
        counts = await table_counts()
        assert await Organization.filter(slug="demo").count() == 1
    assert counts["users"] >= 1 and counts["locations"] >= 2

    second = await tessera("demo", database_url=fresh_database.url)
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout and "Demo logins" in second.stdout
    assert "Demo clinic loaded" not in second.stdout
    async with orm(fresh_database.url):
        assert await table_counts() == counts


async def test_demo_prints_the_url_the_server_is_reached_at(fresh_database: TestDatabase) -> None:
    """`make run PORT=8080` sets TESSERA_PUBLIC_URL, the base of links in mail; the banner says the same URL."""
    result = await tessera("demo", database_url=fresh_database.url, TESSERA_PUBLIC_URL="http://127.0.0.1:8080")
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8080/graphql" in result.stdout and ":8000" not in result.stdout


def test_make_run_connects_the_port_to_the_public_url() -> None:
    """The Makefile serves on PORT and gives the demo and the server the matching TESSERA_PUBLIC_URL
    (unless one is set already); `make -n` prints the commands without running them."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    dry = subprocess.run(["make", "-n", "run", "PORT=8080"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    commands = [line for line in dry.stdout.splitlines() if "tessera " in line]
    assert any("TESSERA_PUBLIC_URL=http://127.0.0.1:8080" in c and "tessera demo" in c for c in commands), dry.stdout
    assert any("--port 8080" in c and "TESSERA_PUBLIC_URL=http://127.0.0.1:8080" in c for c in commands), dry.stdout
    env["TESSERA_PUBLIC_URL"] = "https://tessera.example"
    dry = subprocess.run(["make", "-n", "run", "PORT=8080"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert "TESSERA_PUBLIC_URL=https://tessera.example" in dry.stdout, "a URL already set is kept"


async def test_export_schema_prints_the_committed_sdl(tmp_path) -> None:
    result = await tessera("export-schema", database_url=f"sqlite://{tmp_path / 'unused.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "schema" / "schema.graphql").read_text()


async def test_run_jobs_once_exits_0_and_prints_json(fresh_database: TestDatabase) -> None:
    assert (await tessera("migrate", database_url=fresh_database.url)).returncode == 0
    result = await tessera("run-jobs", "--once", database_url=fresh_database.url)
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)
    assert done["mail"] == 0 and all(isinstance(v, int) and v >= 0 for v in done.values())


@pytest.mark.parametrize(
    ("public_url", "port", "warned"),
    [
        ("http://127.0.0.1:8000", 8000, False),
        ("http://127.0.0.1:8000", 8080, True),
        ("http://localhost", 8080, True),
        ("https://tessera.example", 8080, False),  # a proxy in front: its URL is not this port's
    ],
)
def test_serve_warns_when_mail_links_would_miss_the_port(public_url: str, port: int, warned: bool) -> None:
    from app.cli import public_url_warning

    warning = public_url_warning(public_url, "127.0.0.1", port)
    assert (warning is not None) is warned
    if warning:
        assert f"PORT={port}" in warning and "TESSERA_PUBLIC_URL" in warning
