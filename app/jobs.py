"""The job runner: scheduled work that runs in the server every minute and via `tessera run-jobs`.

Correctness never waits on a job (a passed deactivation date or expiry denies access at the next
request); jobs do the follow-up work: deliver the mail outbox, apply scheduled deactivations.
Each job claims its rows so several workers never run one piece of work twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from app.settings import Settings

log = logging.getLogger("tessera.jobs")

Job = Callable[[Settings], Awaitable[int]]
JOBS: dict[str, Job] = {}


def job(name: str) -> Callable[[Job], Job]:
    """Register a job: an async function that does one batch of work and returns how much it did."""

    def register(fn: Job) -> Job:
        JOBS[name] = fn
        return fn

    return register


def _load_jobs() -> None:
    """Import the modules that register jobs (kept lazy so importing the app stays cheap)."""
    import app.jobs_providers
    import app.mail  # noqa: F401


async def run_once(settings: Settings) -> dict[str, int]:
    """Run every job once; one job's failure is logged and does not stop the others."""
    _load_jobs()
    done: dict[str, int] = {}
    for name, fn in JOBS.items():
        try:
            done[name] = await fn(settings)
        except Exception:
            log.exception("job failed", extra={"job": name})
            done[name] = -1
    return done


async def run_forever(settings: Settings) -> None:
    """Run every job each `jobs_interval_seconds` until cancelled; a failing pass never ends the loop."""
    while True:
        try:
            done = await run_once(settings)
        except Exception:  # e.g. a job module that fails to import: the server keeps serving
            log.exception("job pass failed")
        else:
            if any(done.values()):
                log.info("jobs ran", extra={"done": done})
        await asyncio.sleep(settings.jobs_interval_seconds)
