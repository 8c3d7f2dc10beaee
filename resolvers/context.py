"""What every resolver is given: who is asking, from where, and the per-request caches."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.settings import Settings
from permissions.errors import ApiError, ApiErrorCode, unauthenticated
from permissions.grants import NO_GRANTS, Grants
from permissions.principal import Principal
from resolvers.loaders import Loaders


@dataclass
class RequestContext:
    settings: Settings
    request_id: str
    ip_address: str | None = None
    user_agent: str | None = None
    token: str | None = None
    authenticate: Callable[[RequestContext], Awaitable[Principal | None]] | None = None
    loaders: Loaders = field(default_factory=Loaders)
    operation_name: str | None = None
    # Clients whose data this request returned (the PHI access log), coverage flagged.
    clients_read: dict[str, bool] = field(default_factory=dict)
    # Errors at the path of a field that still answers (a guarded non-null list refused answers []
    # rather than null its parent): schema/refusals.py `refuse_beside` adds, `RefusalLog` reports.
    field_errors: list[Any] = field(default_factory=list)
    # The document's estimated cost (schema/limits.py), which an API token's budget is charged.
    requested_cost: int = 0
    _principal: Principal | None = None
    _resolved: bool = False
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)

    async def principal(self) -> Principal | None:
        """The caller, resolved from the bearer token once per request (one statement, plus an occasional
        touch of the session's last use)."""
        if not self._resolved:
            async with self._lock:
                if not self._resolved:
                    if self.token and self.authenticate is not None:
                        self._principal = await self.authenticate(self)
                    self._resolved = True
        return self._principal

    def forget_principal(self) -> None:
        """After a login within this request: the next question re-reads the (new) token."""
        self._principal = None
        self._resolved = False

    def act_as(self, token: str) -> None:
        """After a session was opened within this request: later fields act as it (resolved lazily,
        if they need it)."""
        self.token = token
        self.forget_principal()

    async def require_principal(self, *, allow_locked: bool = False, allow_reset: bool = False) -> Principal:
        """The caller, or the top-level error that says why not."""
        principal = await self.principal()
        if principal is None:
            raise unauthenticated()
        if principal.locked and not allow_locked:
            raise unauthenticated("SESSION_LOCKED")
        if principal.password_reset_required and not allow_reset:
            raise ApiError(ApiErrorCode.PASSWORD_RESET_REQUIRED, "Change your password before going on.")
        return principal

    def staff_only_refused(self) -> bool:
        """Whether a staff-only part of a row a portal account may reach (a client's alert, say) must
        be refused: the caller, resolved by then on every path to such a row, is a portal account.
        Sync, so the guard costs staff no task per row; a caller not yet resolved is refused."""
        return not self._resolved or (self._principal is not None and self._principal.is_portal)

    async def grants(self) -> Grants:
        principal = await self.principal()
        return principal.grants if principal else NO_GRANTS

    def note_client_read(self, client_id: str, coverage: bool = False) -> None:
        key = str(client_id)
        self.clients_read[key] = self.clients_read.get(key, False) or coverage
