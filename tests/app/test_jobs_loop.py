"""docs/architecture.md "Data": the server runs the jobs (mail outbox delivery among them) every minute, from its
lifespan,
and a failing pass never stops the loop. No real waiting: the loop's sleep is recorded, not slept."""

from __future__ import annotations

import asyncio
import contextlib
from types import SimpleNamespace

import pytest

from app import jobs, main
from app.settings import Settings


async def test_the_loop_runs_every_minute_and_survives_a_failing_pass(monkeypatch) -> None:
    passes: list[int] = []
    slept: list[float] = []

    async def run_once(settings: Settings) -> dict[str, int]:
        passes.append(len(passes))
        if len(passes) == 1:
            raise RuntimeError("a pass that fails")
        return {"mail.deliver": 1}

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            raise asyncio.CancelledError

    monkeypatch.setattr(jobs, "run_once", run_once)
    monkeypatch.setattr(jobs, "asyncio", SimpleNamespace(sleep=sleep))
    with pytest.raises(asyncio.CancelledError):
        await jobs.run_forever(Settings())
    assert passes == [0, 1, 2]
    assert slept == [60, 60, 60]


def test_the_mail_job_is_registered() -> None:
    jobs._load_jobs()
    assert any(name.startswith("mail") for name in jobs.JOBS), sorted(jobs.JOBS)


async def test_the_server_starts_the_loop_and_stops_it_on_shutdown(monkeypatch) -> None:
    started = asyncio.Event()
    stopped = asyncio.Event()

    async def run_forever(settings: Settings) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    @contextlib.asynccontextmanager
    async def no_database(app, config):
        yield

    monkeypatch.setattr(jobs, "run_forever", run_forever)
    monkeypatch.setattr(main, "RegisterTortoise", no_database)
    app = main.create_app(Settings(), manage_database=True, run_jobs=True)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(started.wait(), timeout=10)
        assert not stopped.is_set()
    assert stopped.is_set()
