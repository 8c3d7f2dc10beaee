"""Helpers for the tests that run the real `tessera` command on a database of their own."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tortoise import connections

TESSERA = Path(sys.executable).with_name("tessera")
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """The test process's environment without its TESSERA_* variables, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    env["TESSERA_DATABASE_URL"] = database_url
    env.update(extra)
    return env


async def tessera(
    *args: str, database_url: str, seconds: float = 120, stdin: str | None = None, **extra: str
) -> Result:
    """Run `tessera <args>` as a user would, in a separate process (`stdin`: what is piped to it;
    without it, standard input is empty and not a terminal)."""
    process = await asyncio.create_subprocess_exec(
        str(TESSERA),
        *args,
        env=environment(database_url, **extra),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate((stdin or "").encode()), seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return Result(process.returncode or 0, out.decode(), err.decode())


async def table_names() -> list[str]:
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        sql = "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return sorted(row["name"] for row in await conn.execute_query_dict(sql))


async def table_counts() -> dict[str, int]:
    """Rows per table, to show a command changed nothing."""
    conn = connections.get("default")
    counts = {}
    for name in await table_names():
        [row] = await conn.execute_query_dict(f'SELECT COUNT(*) AS n FROM "{name}"')
        counts[name] = int(row["n"])
    return counts
