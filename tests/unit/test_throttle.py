"""resolvers/throttle.py: the counters and locks, from attempt rows."""

from __future__ import annotations

from models.enums import LoginOutcome
from resolvers.throttle import IP_FAILURE_LIMIT, USER_FAILURE_LIMIT, ThrottleState, login_lock

NOW = 1_800_000_000


def row(ip="1.1.1.1", age=10, ip_lock=None, user_lock=None, outcome=LoginOutcome.FAILED):
    return {
        "ip_address": ip,
        "outcome": outcome,
        "created_at": NOW - age,
        "ip_locked_until": ip_lock,
        "user_locked_until": user_lock,
    }


def test_thresholds():
    assert (IP_FAILURE_LIMIT, USER_FAILURE_LIMIT) == (5, 20)


def test_counts_per_ip_and_per_user():
    rows = [row(), row(), row(ip="2.2.2.2"), row(age=1000), row(age=4000)]
    state = ThrottleState.from_attempts(rows, "1.1.1.1", NOW, 900)
    assert (state.ip_failures, state.user_failures) == (2, 4)
    assert not state.throttled


def test_locks():
    state = ThrottleState.from_attempts([row(ip_lock=NOW + 5)], "1.1.1.1", NOW, 900)
    assert state.ip_locked and state.throttled and not state.user_locked
    other_ip = ThrottleState.from_attempts([row(ip_lock=NOW + 5)], "2.2.2.2", NOW, 900)
    assert not other_ip.throttled
    user = ThrottleState.from_attempts([row(user_lock=NOW + 5)], "9.9.9.9", NOW, 900)
    assert user.user_locked and user.throttled
    lifted = ThrottleState.from_attempts([row(ip_lock=NOW), row(user_lock=NOW - 1)], "1.1.1.1", NOW, 900)
    assert not lifted.throttled


def test_only_failures_count():
    state = ThrottleState.from_attempts([row(outcome=LoginOutcome.THROTTLED)], "1.1.1.1", NOW, 900)
    assert (state.ip_failures, state.user_failures) == (0, 0)


async def test_login_lock_is_shared_per_username():
    a = login_lock("clinic-a", "admin")
    assert login_lock("clinic-a", "admin") is a
    assert login_lock("clinic-a", "other") is not a
    assert login_lock("clinic-b", "admin") is not a
