"""/metrics with several workers (issue 13): `tessera serve --workers 2` writes each worker's samples
under one multiprocess directory and /metrics sums them, whichever worker answers."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.app.conftest import free_port
from tests.app.support import ROOT, TESSERA, environment
from tests.support import BACKEND, orm

if TYPE_CHECKING:
    from tests.support import TestDatabase

pytestmark = pytest.mark.skipif(BACKEND != "postgres", reason="several workers need PostgreSQL")


def _total(text: str) -> float:
    found = re.findall(r'^tessera_requests_total\{operation="query:__typename",outcome="ok"\} (\S+)$', text, re.M)
    return sum(float(v) for v in found)


async def test_two_workers_report_one_sum(fresh_database: TestDatabase, tmp_path: Path) -> None:
    async with orm(fresh_database.url, migrate_first=True):
        pass
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            str(TESSERA),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            env=environment(fresh_database.url, PYTHONPATH=str(ROOT)),
            cwd=ROOT,
            stdout=output,
            stderr=output,
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            deadline = time.monotonic() + 40
            while True:
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.2)
            for _ in range(40):  # new connections: the kernel spreads them over both workers
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as fresh:
                    assert (await fresh.post("/graphql", json={"query": "{ __typename }"})).status_code == 200
            totals = set()
            for _ in range(6):  # whichever worker answers, the sum is the same
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as fresh:
                    totals.add(_total((await fresh.get("/metrics")).text))
            assert totals == {40.0}, totals
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()
