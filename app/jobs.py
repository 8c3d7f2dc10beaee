"""The job runner: scheduled work that runs in the server and via `tessera run-jobs`.

Correctness never waits on a job (a passed deactivation date or expiry denies access at the next
request); jobs do the follow-up work: deliver the mail outbox, purge expired links from held mail,
apply scheduled deactivations. Each job claims its rows so several workers never run one piece of
work twice.

`JOBS` is the one table of jobs: a new job is a row here (its module does not import this one, so
nothing registers itself on import). The loop wakes every `jobs_interval_seconds` and runs each
job whose own interval has passed since it last ran (EVERY_PASS: each time);
`run_once` (`tessera run-jobs --once`) runs them all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from typing import NamedTuple

from app import jobs_providers, mail
from app.settings import Settings
from resolvers import metrics

log = logging.getLogger("tessera.jobs")

EVERY_PASS = timedelta(0)


class Job(NamedTuple):
    """An async function that does one batch of work and returns how much it did."""

    name: str
    interval: timedelta
    run: Callable[[Settings], Awaitable[int]]


JOBS: tuple[Job, ...] = (
    Job("mail", EVERY_PASS, mail.deliver_outbox),
    # A held message's body goes within minutes of its link expiring (72 hours after it was made).
    Job("mail_link_purge", timedelta(minutes=5), mail.purge_expired_links),
    Job("provider_deactivations", EVERY_PASS, jobs_providers.provider_deactivations),
)


async def run_once(settings: Settings, only: Collection[str] | None = None) -> dict[str, int]:
    """Run every job once (or those named in `only`), in table order; one job's failure is logged
    and does not stop the others."""
    done: dict[str, int] = {}
    for job in JOBS:
        if only is not None and job.name not in only:
            continue
        metrics.JOB_RUNS.labels(job.name).inc()
        try:
            done[job.name] = await job.run(settings)
        except Exception:
            metrics.JOB_FAILURES.labels(job.name).inc()
            log.exception("job failed", extra={"job": job.name})
            done[job.name] = -1
    return done


def due(last_run: dict[str, float], now: float) -> list[str]:
    """The jobs whose interval has passed since they last ran (`last_run`: monotonic seconds)."""
    return [j.name for j in JOBS if j.name not in last_run or now - last_run[j.name] >= j.interval.total_seconds()]


async def run_forever(settings: Settings) -> None:
    """Every `jobs_interval_seconds`, run the jobs that are due, until cancelled; a failing pass
    never ends the loop."""
    last_run: dict[str, float] = {}
    while True:
        now = time.monotonic()
        names = due(last_run, now)
        try:
            done = await run_once(settings, names)
        except Exception:
            log.exception("job pass failed")
        else:
            if any(done.values()):
                log.info("jobs ran", extra={"done": done})
        last_run.update(dict.fromkeys(names, now))
        await asyncio.sleep(settings.jobs_interval_seconds)
