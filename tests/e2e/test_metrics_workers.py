"""/metrics with several workers (issue 13): `tessera serve --workers 2` writes each worker's samples
under one multiprocess directory and /metrics sums them, whichever worker answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.app.support import ROOT
from tests.e2e.test_uvicorn import served
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
    async with served(fresh_database.url, tmp_path / "server.log", "--workers", "2", PYTHONPATH=str(ROOT)) as http:
        for _ in range(40):  # new connections: the kernel spreads them over both workers
            async with httpx.AsyncClient(base_url=http.base_url, timeout=10) as fresh:
                assert (await fresh.post("/graphql", json={"query": "{ __typename }"})).status_code == 200
        totals = set()
        for _ in range(6):  # whichever worker answers, the sum is the same
            async with httpx.AsyncClient(base_url=http.base_url, timeout=10) as fresh:
                totals.add(_total((await fresh.get("/metrics")).text))
        assert totals == {40.0}, totals
