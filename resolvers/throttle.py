"""Login throttling (DESIGN §4), keyed on the username typed whether or not it exists.

5 failures for one (organization, username, client IP) within the throttle window lock that triple
for the window; 20 failures for one (organization, username) within an hour lock the username from
every IP for the window. The lock starts at the failure that reaches the threshold, so it always
lasts its full duration. Counters live in the database: every worker sees the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

IP_FAILURE_LIMIT = 5
USER_FAILURE_LIMIT = 20
USER_FAILURE_WINDOW = timedelta(hours=1)


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
