"""docs/architecture.md "Data": the server runs the jobs (mail outbox delivery among them) every minute, from its
lifespan,
and a failing pass never stops the loop. No real waiting: the loop's sleep is recorded, not slept."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import jobs, main
from app.settings import Settings


async def test_the_loop_runs_every_minute_and_survives_a_failing_pass(monkeypatch) -> None:
    passes: list[int] = []
    slept: list[float] = []

    async def run_once(settings: Settings, only: object = None) -> dict[str, int]:
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


def test_the_jobs_are_one_table() -> None:
    """docs/architecture.md "Data": every job is a row of `JOBS` (name, interval, function), not a
    decorator run on import; pinned, so adding or retiming one is a decision a reviewer sees."""
    from app import jobs_providers, mail

    assert [(j.name, j.interval, j.run) for j in jobs.JOBS] == [
        ("mail", jobs.EVERY_PASS, mail.deliver_outbox),
        ("mail_link_purge", timedelta(minutes=5), mail.purge_expired_links),
        ("provider_deactivations", jobs.EVERY_PASS, jobs_providers.provider_deactivations),
    ]
    assert all(inspect.iscoroutinefunction(j.run) for j in jobs.JOBS)


def test_no_job_module_imports_the_runner() -> None:
    """The runner imports the jobs, never the other way round (no import cycle, no registration on
    import): read from the source of every module under app/."""
    for path in sorted((Path(__file__).resolve().parents[2] / "app").glob("*.py")):
        if path.name == "jobs.py":
            continue
        tree = ast.parse(path.read_text())
        modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        top_level = {n.module for n in tree.body if isinstance(n, ast.ImportFrom)}
        if path.name in {"main.py", "cli.py"}:
            assert "app.jobs" not in top_level, f"{path.name} imports the runner at import time"
        else:
            assert "app.jobs" not in modules, f"{path.name} imports app.jobs"


async def test_the_loop_runs_each_job_when_its_interval_has_passed(monkeypatch) -> None:
    ran: list[list[str]] = []
    clock = iter([0.0, 60.0, 120.0, 300.0, 360.0])

    async def run_once(settings: Settings, only: list[str]) -> dict[str, int]:
        ran.append(list(only))
        return {}

    async def sleep(seconds: float) -> None:
        if len(ran) == 5:
            raise asyncio.CancelledError

    monkeypatch.setattr(jobs, "run_once", run_once)
    monkeypatch.setattr(jobs, "asyncio", SimpleNamespace(sleep=sleep))
    monkeypatch.setattr(jobs, "time", SimpleNamespace(monotonic=lambda: next(clock)))
    with pytest.raises(asyncio.CancelledError):
        await jobs.run_forever(Settings())
    every_pass = ["mail", "provider_deactivations"]
    assert ran == [
        ["mail", "mail_link_purge", "provider_deactivations"],
        every_pass,
        every_pass,
        ["mail", "mail_link_purge", "provider_deactivations"],  # five minutes after the first
        every_pass,
    ]


async def test_run_once_runs_every_job_or_the_named_ones(monkeypatch) -> None:
    calls: list[str] = []

    def fake(name: str, result: int):
        async def run(settings: Settings) -> int:
            calls.append(name)
            if result < 0:
                raise RuntimeError(name)
            return result

        return run

    table = (
        jobs.Job("a", jobs.EVERY_PASS, fake("a", 2)),
        jobs.Job("b", timedelta(hours=1), fake("b", -1)),
        jobs.Job("c", jobs.EVERY_PASS, fake("c", 0)),
    )
    monkeypatch.setattr(jobs, "JOBS", table)
    assert await jobs.run_once(Settings()) == {"a": 2, "b": -1, "c": 0}, "a failing job does not stop the rest"
    assert await jobs.run_once(Settings(), ["c"]) == {"c": 0}
    assert calls == ["a", "b", "c", "c"]


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
