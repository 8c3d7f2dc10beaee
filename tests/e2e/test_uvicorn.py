"""End to end: the real `tessera serve` (uvicorn in its own process) answering over HTTP."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from tests.app.conftest import free_port
from tests.app.support import ROOT, TESSERA, environment, tessera
from tests.factories import PASSWORD

if TYPE_CHECKING:
    from tests.support import TestDatabase

STARTUP_SECONDS = 40  # several workers (`--workers 2`) start one after the other


def text(path: Path) -> str:
    return path.read_text()


@asynccontextmanager
async def served(database_url: str, log: Path, *options: str, **extra: str) -> AsyncIterator[httpx.AsyncClient]:
    """`tessera serve` on a free loopback port, with more command-line `options` (`--workers 2`) and
    environment (`extra`); stopped with SIGTERM (and killed if it will not stop), cleanly."""
    port = free_port()
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            str(TESSERA),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *options,
            env=environment(database_url, **extra),
            cwd=ROOT,
            stdout=output,
            stderr=output,
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                assert process.returncode is None, f"the server exited at startup:\n{text(log)}"
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, f"no /healthz after {STARTUP_SECONDS}s:\n{text(log)}"
                await asyncio.sleep(0.1)
            yield http
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal: ending by SIGTERM is a clean stop.
        assert await asyncio.wait_for(process.wait(), 15) in (0, -signal.SIGTERM), text(log)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_real_server_logs_in_and_answers(fresh_database: TestDatabase, tmp_path: Path) -> None:
    created = await tessera(
        "create-organization",
        "--name",
        "Harbour Clinic",
        "--slug",
        "harbour",
        "--admin-username",
        "chief",
        "--admin-password",
        PASSWORD,
        "--admin-first-name",
        "Jo",
        "--admin-last-name",
        "Lee",
        database_url=fresh_database.url,
    )
    assert created.returncode == 0, created.stderr
    log = tmp_path / "server.log"
    async with served(fresh_database.url, log) as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok"}

        login = await http.post(
            "/graphql",
            json={
                "query": 'mutation { login(input: {organizationSlug: "harbour", username: "chief", '
                f'password: "{PASSWORD}"}}) {{ token errors {{ code }} }} }}'
            },
        )
        assert login.status_code == 200, login.text
        token = login.json()["data"]["login"]["token"]
        assert token.startswith("tss_")

        viewer = await http.post(
            "/graphql",
            json={"query": "{ viewer { user { displayName } organization { name } } }"},
            headers={"authorization": f"Bearer {token}", "x-request-id": "e2e-check-1"},
        )
        body = viewer.json()
        assert viewer.status_code == 200 and "errors" not in body, viewer.text
        assert body["data"]["viewer"]["organization"] == {"name": "Harbour Clinic"}
        assert "Lee" in body["data"]["viewer"]["user"]["displayName"]
        assert viewer.headers["x-request-id"] == "e2e-check-1"
        assert body["extensions"]["requestId"] == "e2e-check-1"
        assert viewer.headers["cache-control"] == "no-store"
        assert len((await http.get("/healthz")).headers["x-request-id"]) >= 16, "a request id is made when none is sent"

    lines = [json.loads(line) for line in text(log).splitlines() if line.startswith("{")]
    access = [e for e in lines if e.get("logger") == "tessera.access" and e.get("request_id") == "e2e-check-1"]
    assert access and access[0]["status"] == 200
    assert PASSWORD not in text(log), "the password never reaches the log"
    assert any(e.get("message") == "Application shutdown complete." for e in lines), "stopped cleanly"


async def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    closed = f"postgres://tessera@127.0.0.1:{free_port()}/tessera"
    async with served(closed, tmp_path / "server.log") as http:
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "database": "unreachable"}
        assert (await http.get("/healthz")).status_code == 200, "the process itself is up"
