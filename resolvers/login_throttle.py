"""The login throttle's turns (docs/architecture.md "Authentication"): every password, PIN-less
password change, portal login and sign-up asks for a turn before its secret is judged, and reports
how it went.

In the database (the default), the counters are the `login_attempts` rows; a process's attempts for
one username take turns (`resolvers/throttle.py` `login_lock`), so a burst across workers may get
one extra guess per worker. With `TESSERA_REDIS_URL`, a turn is taken in Redis, atomically across
every worker: the attempt is counted before it is judged (its entry is removed again when the secret
was right), so a burst gets exactly the limit, however many workers it is spread over. The failure is
still written to `login_attempts` too, the history `User.loginLocked` and the audit read, and a turn
takes the larger of the two counts. A Redis that does not answer falls back to the database
counters: logins keep working.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from models.enums import LoginOutcome
from models.sessions import LoginAttempt
from resolvers.context import RequestContext
from resolvers.redis_client import redis_client
from resolvers.throttle import IP_FAILURE_LIMIT, USER_FAILURE_LIMIT, USER_FAILURE_WINDOW, ThrottleState


@dataclass(frozen=True)
class Turn:
    """One attempt's place in the throttle: the counters before it, and its entry in Redis (if any)."""

    state: ThrottleState
    member: str | None = None
    keys: tuple[str, ...] = ()


async def record_failure(
    organization_id: Any, state: ThrottleState, username_key: str, ip: str, throttle_seconds: int
) -> None:
    """The failed attempt's row; the failure that reaches a limit starts its lock."""
    until = state.now_ts + throttle_seconds
    await LoginAttempt.create(
        organization_id=organization_id,
        username_key=username_key,
        ip_address=ip,
        outcome=LoginOutcome.FAILED,
        ip_locked_until=until if state.ip_failures + 1 >= IP_FAILURE_LIMIT else None,
        user_locked_until=until if state.user_failures + 1 >= USER_FAILURE_LIMIT else None,
        created_at=state.now_ts,
    )


async def throttle_state(organization_id: Any, username_key: str, ip: str, ctx: RequestContext) -> ThrottleState:
    """The database counters for one username, outside a staff login (whose lookup reads them itself)."""
    now_ts = int(ctx.now().timestamp())
    throttle_seconds = ctx.settings.login_throttle_seconds
    horizon = max(int(USER_FAILURE_WINDOW.total_seconds()), throttle_seconds)
    rows = await LoginAttempt.filter(
        organization_id=organization_id, username_key=username_key, created_at__gt=now_ts - horizon
    ).values("ip_address", "outcome", "created_at", "ip_locked_until", "user_locked_until")
    return ThrottleState.from_attempts(rows, ip, now_ts, throttle_seconds)


# KEYS: the IP's attempts and the username's attempts (sorted sets: failures and attempts in flight),
# the IP lock, the username lock, then the IP's and the username's failures alone. ARGV: the attempt's
# member, the throttle seconds, the username window, the IP limit. Returns {throttled, ip failures,
# user failures, ip lock, user lock, now}: the failures before this attempt (in flight ones aside).
_BEGIN = """
local t = redis.call('TIME')
local now = tonumber(t[1])
local seconds = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
for i, keep in ipairs({seconds, window, seconds, window}) do
  local key = KEYS[({1, 2, 5, 6})[i]]
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - keep)
end
local attempts = redis.call('ZCARD', KEYS[1])
local iplock = tonumber(redis.call('GET', KEYS[3]) or '0')
local ulock = tonumber(redis.call('GET', KEYS[4]) or '0')
local throttled = 0
-- The locks decide, as in the database; so does the IP's count of attempts, those in flight
-- included (its window is the lock's length: the same rule), which bounds a burst across workers.
if iplock > now or ulock > now or attempts >= tonumber(ARGV[4]) then
  throttled = 1
else
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('ZADD', KEYS[2], now, ARGV[1])
  redis.call('EXPIRE', KEYS[1], seconds + 60)
  redis.call('EXPIRE', KEYS[2], window + 60)
end
return {throttled, redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[6]), iplock, ulock, now}
"""
# KEYS as above; ARGV: the attempt's member, the throttle seconds, the username window, the limits.
# The failure stays counted; the failures alone (never attempts still in flight, which may yet prove
# right) reaching a limit lock for the full throttle time.
_FAILED = """
local t = redis.call('TIME')
local now = tonumber(t[1])
local seconds = tonumber(ARGV[2])
redis.call('ZADD', KEYS[5], now, ARGV[1])
redis.call('ZADD', KEYS[6], now, ARGV[1])
redis.call('EXPIRE', KEYS[5], seconds + 60)
redis.call('EXPIRE', KEYS[6], tonumber(ARGV[3]) + 60)
if redis.call('ZCARD', KEYS[5]) >= tonumber(ARGV[4]) then
  redis.call('SET', KEYS[3], now + seconds, 'EX', seconds + 60)
end
if redis.call('ZCARD', KEYS[6]) >= tonumber(ARGV[5]) then
  redis.call('SET', KEYS[4], now + seconds, 'EX', seconds + 60)
end
return 1
"""


def _keys(organization_id: Any, username_key: str, ip: str) -> tuple[str, ...]:
    user = hashlib.sha256(f"{organization_id}|{username_key}".encode("utf-8", "surrogatepass")).hexdigest()
    base = f"tessera:login:{user}"
    return (
        f"{base}:ip:{ip}",
        f"{base}:user",
        f"{base}:iplock:{ip}",
        f"{base}:userlock",
        f"{base}:ipfail:{ip}",
        f"{base}:userfail",
    )


async def begin(
    ctx: RequestContext, organization_id: Any, username_key: str, ip: str, known: ThrottleState | None = None
) -> Turn:
    """This attempt's turn: `turn.state.throttled` says it must be refused unjudged. `known`: the
    database counters a staff login's lookup has already read."""
    url = ctx.settings.redis_url
    if url is not None:
        from redis.exceptions import RedisError

        # A lock the database holds (set while Redis was away, or its keys evicted) still holds.
        stored = known if known is not None else await throttle_state(organization_id, username_key, ip, ctx)
        if stored.throttled:
            return Turn(stored)

        keys = _keys(organization_id, username_key, ip)
        member = uuid.uuid4().hex
        seconds = ctx.settings.login_throttle_seconds
        window = int(USER_FAILURE_WINDOW.total_seconds())
        try:
            throttled, ipn, un, iplock, ulock, now = await redis_client(url).eval(
                _BEGIN, len(keys), *keys, member, seconds, window, IP_FAILURE_LIMIT
            )
        except (TimeoutError, RedisError, OSError):
            pass  # the database counters below
        else:
            now = int(now)
            ip_lock = int(iplock) if int(iplock) > now else None
            user_lock = int(ulock) if int(ulock) > now else None
            if int(throttled) and ip_lock is None and user_lock is None:
                ip_lock = now + 1  # attempts in flight fill the IP's count: refused as if locked
            # Every failure has its row too: the larger count stands (failures Redis missed while it
            # was away, or a renamed user's, whose rows followed it and its Redis keys did not).
            ip_failures, user_failures = max(int(ipn), stored.ip_failures), max(int(un), stored.user_failures)
            state = ThrottleState(now, ip_failures, user_failures, ip_lock, user_lock)
            return Turn(state, None if throttled else member, keys)
    return Turn(known if known is not None else await throttle_state(organization_id, username_key, ip, ctx))


async def failed(ctx: RequestContext, organization_id: Any, turn: Turn, username_key: str, ip: str) -> None:
    """The secret was wrong: the attempt stays counted (and may start a lock)."""
    seconds = ctx.settings.login_throttle_seconds
    if turn.member is not None and ctx.settings.redis_url is not None:
        from redis.exceptions import RedisError

        with contextlib.suppress(TimeoutError, RedisError, OSError):  # the database row below still counts it
            window = int(USER_FAILURE_WINDOW.total_seconds())
            limits = (seconds, window, IP_FAILURE_LIMIT, USER_FAILURE_LIMIT)
            await redis_client(ctx.settings.redis_url).eval(_FAILED, len(turn.keys), *turn.keys, turn.member, *limits)
    await record_failure(organization_id, turn.state, username_key, ip, seconds)


async def succeeded(ctx: RequestContext, turn: Turn) -> None:
    """The secret was right: the attempt's provisional count is given back."""
    if turn.member is not None and ctx.settings.redis_url is not None:
        from redis.exceptions import RedisError

        with contextlib.suppress(TimeoutError, RedisError, OSError):  # else it ages out of the window
            client = redis_client(ctx.settings.redis_url)
            await client.zrem(turn.keys[0], turn.member)
            await client.zrem(turn.keys[1], turn.member)


async def rename(ctx: RequestContext, organization_id: Any, old_key: str, new_key: str) -> None:
    """A renamed user's failed attempts and locks follow it to the new username (in the rename's
    transaction): the throttle counts the username typed, so renaming a user would otherwise give
    whoever may rename it fresh guesses at its password after every batch. In Redis, `begin` takes
    the larger of its counts and the rows', so the rows carry them; the old name's keys go, or the
    next user given that name would inherit its locks (should the rename roll back, the rows still
    count under the old name)."""
    rows = LoginAttempt.filter(organization_id=organization_id, username_key=old_key)
    ips = await _ips(rows)
    await rows.update(username_key=new_key)
    await _drop_keys(ctx, organization_id, old_key, ips)


async def forget(ctx: RequestContext, organization_id: Any, username_key: str) -> None:
    """Drop a username's failed attempts and the locks they set, from every IP: someone it trusts
    has just set its password (an admin's reset, the operator's, a reset or registration link), so
    guesses at the old password no longer count, and the user locked out who asked for the reset
    logs in at once instead of waiting out the lock. A guesser gains nothing: the new password is
    not the one guessed at, and its first five wrong guesses lock again.

    Called once the new password is committed (a rolled-back reset must not lift a lock)."""
    rows = LoginAttempt.filter(organization_id=organization_id, username_key=username_key)
    ips = await _ips(rows)
    await rows.delete()
    await _drop_keys(ctx, organization_id, username_key, ips)


async def _ips(rows: Any) -> set[str]:
    """The IPs a username's attempt rows name: every failure has its row, so these are all the IPs
    whose Redis keys it may have."""
    return {str(row["ip_address"]) for row in await rows.values("ip_address")}


async def _drop_keys(ctx: RequestContext, organization_id: Any, username_key: str, ips: set[str]) -> None:
    """Delete a username's Redis keys: the username-wide ones and those of `ips` (`_ips`: no scan of
    a keyspace anyone can grow)."""
    if ctx.settings.redis_url is None:
        return
    from redis.exceptions import RedisError

    # Should Redis not answer, its locks hold until they expire (the safe way to fail).
    with contextlib.suppress(TimeoutError, RedisError, OSError):
        keys = {key for ip in ips | {""} for key in _keys(organization_id, username_key, ip)}
        await redis_client(ctx.settings.redis_url).delete(*sorted(keys))
