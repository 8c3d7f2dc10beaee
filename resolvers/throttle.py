"""Login throttling (docs/architecture.md "Authentication"), keyed on the username typed whether or not it exists.

5 failures for one (organization, username, client IP) within the throttle window lock that triple
for the window; 20 failures for one (organization, username) within an hour lock the username from
every IP for the window. The lock starts at the failure that reaches the threshold, so it always
lasts its full duration. Counters live in the database: every worker sees the same ones.

Reading the counters and recording a failure are two statements with an argon2 verify between
them: parallel guesses for one username would all read "4 so far" and all get to guess. Within a
process, `login_lock` makes attempts for one (organization, username) take turns, so a burst gets
no more than the threshold; across workers, a burst gets at most one extra guess per worker.
"""

from __future__ import annotations

import asyncio
import ipaddress
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

IP_FAILURE_LIMIT = 5
USER_FAILURE_LIMIT = 20
USER_FAILURE_WINDOW = timedelta(hours=1)


IPV6_CALLER_PREFIX = 64
# IPv4 callers reached through NAT64 (RFC 6052's well-known prefix) carry their address in the last
# 32 bits: each is counted as that IPv4 address, not all of them as one /64.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def throttle_address(ip: str | None) -> str:
    """The address the throttles count a caller by: its IPv4 address, or its IPv6 /64 (a host is
    handed a whole /64, 2^64 addresses it may rotate through, each a fresh counter if counted one by
    one); an IPv4 address written as IPv6 (`::ffff:a.b.c.d`, or NAT64's `64:ff9b::a.b.c.d`) is that
    IPv4 address."""
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        if address in NAT64:
            return str(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        return str(ipaddress.ip_network(f"{address}/{IPV6_CALLER_PREFIX}", strict=False))
    return str(address)


@dataclass(frozen=True)
class ThrottleState:
    now_ts: int
    ip_failures: int
    user_failures: int
    ip_locked_until: int | None
    user_locked_until: int | None

    @property
    def ip_locked(self) -> bool:
        return self.ip_locked_until is not None and self.ip_locked_until > self.now_ts

    @property
    def user_locked(self) -> bool:
        return self.user_locked_until is not None and self.user_locked_until > self.now_ts

    @property
    def throttled(self) -> bool:
        return self.ip_locked or self.user_locked

    @classmethod
    def from_attempts(
        cls, attempts: Iterable[Mapping[str, Any]], ip: str, now_ts: int, throttle_seconds: int
    ) -> ThrottleState:
        """The same counters the login lookup computes in SQL, from one username's attempt rows
        (those of the last hour at least)."""
        ip_since = now_ts - throttle_seconds
        user_since = now_ts - int(USER_FAILURE_WINDOW.total_seconds())
        ip_failures = user_failures = 0
        ip_locks: list[int] = []
        user_locks: list[int] = []
        for row in attempts:
            failed = str(getattr(row["outcome"], "value", row["outcome"])) == "FAILED"
            same_ip = row["ip_address"] == ip
            if failed and row["created_at"] > user_since:
                user_failures += 1
            if failed and same_ip and row["created_at"] > ip_since:
                ip_failures += 1
            if same_ip and row["ip_locked_until"] is not None:
                ip_locks.append(row["ip_locked_until"])
            if row["user_locked_until"] is not None:
                user_locks.append(row["user_locked_until"])
        return cls(
            now_ts=now_ts,
            ip_failures=ip_failures,
            user_failures=user_failures,
            ip_locked_until=max(ip_locks, default=None),
            user_locked_until=max(user_locks, default=None),
        )


# One lock per (organization slug, username key) with an attempt in flight; unused ones vanish.
_login_locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()


def login_lock(organization_slug: str, username_key: str) -> asyncio.Lock:
    """The lock that login attempts for this username in this organization take turns on."""
    key = (organization_slug, username_key)
    lock = _login_locks.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _login_locks[key] = lock
    return lock
