"""The scheduled-deactivation job with real, separate transactions (a fresh database, not the
rolled-back test transaction): two workers running at once apply each due deactivation exactly once,
and rows another worker holds are skipped (FOR UPDATE SKIP LOCKED), not waited on or applied twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tortoise.transactions import in_transaction

import app.jobs_providers as jobs_providers
from app.jobs import JOBS, run_once
from models.audit import AuditEvent
from models.clients import Client
from models.enums import ProviderStatus, UserType
from models.providers import Provider
from models.sessions import Session
from tests.factories import Factory, make_client, make_provider
from tests.support import BACKEND, own_database

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="needs concurrent workers in separate transactions with row locks (SKIP LOCKED): PostgreSQL only; "
    "SQLite has a single writer and ignores FOR UPDATE (the job itself runs on SQLite in "
    "tests/resolvers/test_providers_deactivation.py)",
)

DUE = 12


@pytest.fixture
async def fresh(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """A migrated database of its own, with DUE providers whose deactivation date has passed."""
    async with own_database(tmp_path, "provjobs"):
        factory = Factory()
        org = await factory.organization("jobs")
        a1 = org.locations[0]
        target_user = await factory.user(org.organization, type=UserType.PROVIDER, locations=[a1], session=False)
        target = await make_provider(target_user.user, display_name="Dr Takeover")
        due = []
        past = datetime.now(UTC) - timedelta(minutes=5)
        for n in range(DUE):
            staff = await factory.user(org.organization, type=UserType.PROVIDER, locations=[a1])
            provider = await make_provider(
                staff.user,
                display_name=f"Dr Due {n:02d}",
                status=ProviderStatus.DEACTIVATION_SCHEDULED,
                deactivate_at=past,
            )
            await Provider.filter(id=provider.id).update(reassign_to_id=target.id)
            await make_client(org, a1, "C", f"L{n:02d}", provider=provider)
            due.append(provider)
        yield {"org": org, "due": due, "target": target}


async def _assert_applied_once(due: list[Provider], target: Provider) -> None:
    for provider in due:
        row = await Provider.get(id=provider.id)
        assert row.status is ProviderStatus.INACTIVE
        assert row.version == 2, "applied more than once"
        assert await AuditEvent.filter(action="provider.deactivate", target_id=provider.id).count() == 1
        assert await Session.filter(user_id=provider.user_id, revoked_at__isnull=True).count() == 0
    clients = await Client.filter(organization_id=target.organization_id)
    assert len(clients) == DUE
    assert all(c.primary_provider_id == target.id and c.version == 2 for c in clients)


async def test_two_concurrent_workers_apply_each_deactivation_once(fresh, settings, monkeypatch) -> None:
    monkeypatch.setattr(jobs_providers, "BATCH", 3)  # small batches: the two workers interleave
    results = await asyncio.gather(
        jobs_providers.provider_deactivations(settings), jobs_providers.provider_deactivations(settings)
    )
    # A worker that found its batch short (rows skipped) may stop early; a last run finds nothing left.
    rest = await jobs_providers.provider_deactivations(settings)
    assert sum(results) + rest == DUE, results
    await _assert_applied_once(fresh["due"], fresh["target"])


async def test_rows_held_by_another_worker_are_skipped_not_applied_twice(fresh, settings) -> None:
    held = fresh["due"][:5]
    claimed = asyncio.Event()
    release = asyncio.Event()

    async def other_worker() -> None:
        async with in_transaction():
            rows = await Provider.filter(id__in=[p.id for p in held]).select_for_update()
            assert len(rows) == 5
            claimed.set()
            await release.wait()

    holder = asyncio.create_task(other_worker())
    await claimed.wait()
    done = await asyncio.wait_for(jobs_providers.provider_deactivations(settings), timeout=10)
    assert done == DUE - 5  # did not wait for the held rows, did not apply them
    for provider in held:
        assert (await Provider.get(id=provider.id)).status is ProviderStatus.DEACTIVATION_SCHEDULED
    release.set()
    await holder
    assert await jobs_providers.provider_deactivations(settings) == 5
    await _assert_applied_once(fresh["due"], fresh["target"])


async def test_the_job_is_registered_with_the_runner(fresh, settings) -> None:
    done = await run_once(settings)
    assert "provider_deactivations" in {job.name for job in JOBS}
    assert done["provider_deactivations"] == DUE
