"""Who may act at all (permissions/standing.py), the idle lock and how often it is refreshed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from models.enums import AccessStatus, ProviderStatus
from permissions.standing import Standing, denial_reason
from resolvers.sessions import is_idle_locked, touch_interval

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def user(**fields):
    base = {"is_active": True, "expires_at": None, "access_status": AccessStatus.ENABLED}
    return SimpleNamespace(**{**base, **fields})


def access(status: str | None = None, deactivate_at: datetime | None = None) -> tuple[str | None, datetime | None]:
    return status, deactivate_at


@pytest.mark.parametrize(
    "fields, data, reason",
    [
        ({}, None, None),
        ({}, access(), None),
        ({"is_active": False}, None, "ACCOUNT_INACTIVE"),
        ({"expires_at": NOW}, None, "ACCOUNT_EXPIRED"),
        ({"expires_at": NOW - timedelta(seconds=1)}, None, "ACCOUNT_EXPIRED"),
        ({"expires_at": NOW + timedelta(seconds=1)}, None, None),
        ({"access_status": AccessStatus.NO_ACCESS}, None, "ACCESS_NOT_ENABLED"),
        ({"access_status": AccessStatus.INVITED}, None, "ACCESS_NOT_ENABLED"),
        ({}, access(ProviderStatus.INACTIVE.value), "ACCOUNT_INACTIVE"),
        ({}, access(ProviderStatus.ACTIVE.value), None),
        ({}, access(ProviderStatus.DEACTIVATION_SCHEDULED.value, NOW), "ACCOUNT_INACTIVE"),
        ({}, access(ProviderStatus.DEACTIVATION_SCHEDULED.value, NOW + timedelta(minutes=1)), None),
        # The first reason wins: inactive before expired before no access.
        ({"is_active": False, "expires_at": NOW, "access_status": AccessStatus.NO_ACCESS}, None, "ACCOUNT_INACTIVE"),
        ({"expires_at": NOW, "access_status": AccessStatus.NO_ACCESS}, None, "ACCOUNT_EXPIRED"),
    ],
)
def test_denial_reason(fields, data, reason):
    status, deactivate_at = data or (None, None)
    assert denial_reason(Standing.of(user(**fields), status, deactivate_at), NOW) == reason


@pytest.mark.parametrize(
    "idle, expected",
    [(1800, 60), (600, 60), (300, 30), (60, 6), (4, 0.4), (1, 0.1)],
)
def test_touch_interval_is_a_tenth_of_idle_at_most_a_minute(idle, expected):
    assert touch_interval(idle) == timedelta(seconds=expected)
    assert touch_interval(idle) < timedelta(seconds=idle)


def test_idle_lock_boundary():
    session = SimpleNamespace(last_seen_at=NOW - timedelta(seconds=1800))
    assert not is_idle_locked(session, NOW, 1800)
    assert is_idle_locked(session, NOW + timedelta(microseconds=1), 1800)
