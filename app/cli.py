"""The `tessera` command line: serve, migrate, create-organization, reset-password, demo, run-jobs,
export-schema.

Bad input exits non-zero with one line saying what is wrong (no traceback).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from asyncpg import PostgresError
from tortoise import Tortoise
from tortoise.exceptions import DBConnectionError, OperationalError

from app.db import MigrationError, migrate, tortoise_config
from app.settings import Settings, SettingsError, get_settings
from resolvers.errors import ErrorCode, InputError, fail

# What an unreachable or misconfigured database raises: one line for these, not a traceback.
DATABASE_ERRORS = (OSError, DBConnectionError, OperationalError, PostgresError)


async def _with_orm(settings: Settings, work: Callable[[], Awaitable[Any]]) -> Any:
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


def public_url_warning(public_url: str, host: str, port: int) -> str | None:
    """Why links in mail would miss this server: TESSERA_PUBLIC_URL names this machine (loopback)
    on another port than the one served. A public URL on another host is a proxy's: not judged."""
    from urllib.parse import urlsplit

    url = urlsplit(public_url)
    local = {"127.0.0.1", "localhost", "::1", "0.0.0.0", host}
    url_port = url.port or (443 if url.scheme == "https" else 80)
    if url.hostname in local and url_port != port:
        return (
            f"TESSERA_PUBLIC_URL is {public_url} but the server listens on port {port}: links in mail will "
            f"not reach it (set TESSERA_PUBLIC_URL=http://{host}:{port}, or use make run PORT={port})"
        )
    return None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import logging

    import uvicorn

    from app.logging import configure_logging

    configure_logging(settings.log_level)
    if args.workers > 1 and settings.database_url.startswith("sqlite"):
        print(
            "tessera serve: SQLite has one writer, so it runs one worker (--workers 1); for several "
            "workers use PostgreSQL (TESSERA_DATABASE_URL=postgres://...).",
            file=sys.stderr,
        )
        return 2
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics there and /metrics sums them (app/metrics.py); a fresh
        # directory per start, so a previous run's counts are not added in.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tessera-metrics-")
    log = logging.getLogger("tessera")
    log.info(f"serving http://{args.host}:{args.port}/graphql; links in mail use {settings.public_url}")
    if warning := public_url_warning(settings.public_url, args.host, args.port):
        log.warning(warning)
    uvicorn.run(
        "app.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        # Our access log (app/middleware.py) is the one: uvicorn's would write the full URL, query
        # string included, and the pages mail links open carry their token there.
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    asyncio.run(migrate(settings.database_url))
    print(f"database is up to date: {_safe_url(settings.database_url)}")
    return 0


def read_password(given: str | None, from_stdin: bool, option: str, label: str = "password") -> str:
    """A password kept off the command line (where `ps` and shell history see it) when it can be: the
    first line of standard input with `--<option>-stdin`, else a prompt (asked twice, not echoed) in
    a terminal; `--<option>` (`given`) still works, for scripts."""
    if given is not None:
        return given
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise fail(ErrorCode.REQUIRED, f"no {label} on standard input (--{option}-stdin)")
        return password
    if not sys.stdin.isatty():
        raise fail(
            ErrorCode.REQUIRED,
            f"the {label} is missing: pipe it with --{option}-stdin, or run in a terminal to be asked",
        )
    password = getpass.getpass(f"{label.capitalize()}: ")
    if getpass.getpass(f"{label.capitalize()} again: ") != password:
        raise fail(ErrorCode.INVALID, f"the two {label}s do not match")
    return password


def admin_password(args: argparse.Namespace) -> str:
    """The new admin's password (`read_password`)."""
    return read_password(args.admin_password, args.admin_password_stdin, "admin-password", "admin password")


def cmd_create_organization(args: argparse.Namespace, settings: Settings) -> int:
    from resolvers.organizations import create_organization

    password = admin_password(args)

    async def work() -> dict[str, Any]:
        created = await create_organization(
            name=args.name,
            slug=args.slug,
            admin_username=args.admin_username,
            admin_password=password,
            admin_email=args.admin_email,
            admin_first_name=args.admin_first_name,
            admin_last_name=args.admin_last_name,
            seat_limit=args.seat_limit,
        )
        return {
            "organizationId": str(created.organization.id),
            "slug": created.organization.slug,
            "adminUserId": str(created.admin.id),
        }

    asyncio.run(migrate(settings.database_url))
    print(json.dumps(asyncio.run(_with_orm(settings, work))))
    return 0


def cmd_reset_password(args: argparse.Namespace, settings: Settings) -> int:
    from permissions.standing import Standing, denial_reason
    from resolvers.context import RequestContext
    from resolvers.organizations import reset_password_by_operator

    password = read_password(args.password, args.password_stdin, "password", "new password")

    async def work() -> dict[str, Any]:
        ctx = RequestContext(settings=settings, request_id=f"cli-{os.getpid()}")
        user = await reset_password_by_operator(ctx, slug=args.org, username=args.username, password=password)
        done: dict[str, Any] = {"userId": str(user.id), "username": user.username, "passwordResetRequired": True}
        # A new password does not let in a deactivated, expired or access-disabled user: say so.
        if reason := denial_reason(Standing.of(user), ctx.now()):
            done["cannotLogIn"] = reason
        return done

    print(json.dumps(asyncio.run(_with_orm(settings, work))))
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo import load_demo

    asyncio.run(migrate(settings.database_url))
    print(asyncio.run(_with_orm(settings, lambda: load_demo(settings.public_url))))
    return 0


def cmd_run_jobs(args: argparse.Namespace, settings: Settings) -> int:
    from app.jobs import run_forever, run_once
    from app.logging import configure_logging

    configure_logging(settings.log_level)
    if args.once:
        done = asyncio.run(_with_orm(settings, lambda: run_once(settings)))
        print(json.dumps(done))
        return 1 if any(v < 0 for v in done.values()) else 0
    asyncio.run(_with_orm(settings, lambda: run_forever(settings)))
    return 0


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    from schema.api import build_schema

    sys.stdout.write(build_schema(True).as_str() + "\n")
    return 0


def _safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tessera", description="Tessera access-administration API")
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=cmd_serve)
    sub.add_parser("migrate", help="bring the database to the current schema").set_defaults(run=cmd_migrate)
    org = sub.add_parser("create-organization", help="create an organization and its admin")
    org.add_argument("--name", required=True)
    org.add_argument("--slug", required=True)
    org.add_argument("--admin-username", required=True)
    secret = org.add_mutually_exclusive_group()
    secret.add_argument("--admin-password", help="visible to ps and shell history: prefer the two below")
    secret.add_argument(
        "--admin-password-stdin", action="store_true", help="read the admin password from standard input"
    )
    org.epilog = "Without either option, the admin password is asked for (in a terminal)."
    org.add_argument("--admin-email")
    org.add_argument("--admin-first-name", default="Admin")
    org.add_argument("--admin-last-name", default="User")
    org.add_argument("--seat-limit", type=int)
    org.set_defaults(run=cmd_create_organization)
    reset = sub.add_parser(
        "reset-password",
        help="set a staff user's password (e.g. the only admin's); it must be changed at the next login",
    )
    reset.add_argument("--org", required=True, help="the organization's slug")
    reset.add_argument("--username", required=True)
    new = reset.add_mutually_exclusive_group()
    new.add_argument("--password", help="visible to ps and shell history: prefer --password-stdin or the prompt")
    new.add_argument("--password-stdin", action="store_true", help="read the new password from standard input")
    reset.set_defaults(run=cmd_reset_password)
    sub.add_parser("demo", help="migrate and load the demo clinic; print its logins").set_defaults(run=cmd_demo)
    jobs = sub.add_parser("run-jobs", help="run the scheduled jobs")
    jobs.add_argument("--once", action="store_true", help="one pass, then exit")
    jobs.set_defaults(run=cmd_run_jobs)
    sub.add_parser("export-schema", help="print the GraphQL schema (SDL)").set_defaults(run=cmd_export_schema)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = get_settings()
        return int(args.run(args, settings) or 0)
    except SettingsError as error:
        print(f"tessera: {error}", file=sys.stderr)
        return 2
    except (InputError, MigrationError) as error:
        print(f"tessera: {error}", file=sys.stderr)
        return 1
    except DATABASE_ERRORS as error:
        detail = " ".join(str(error).split()) or type(error).__name__
        print(f"tessera: database {_safe_url(settings.database_url)}: {detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
