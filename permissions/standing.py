"""Who may act at all: the account-standing rule, and its SQL twin for "an admin who can act".

A staff user acts (logs in, holds grants) only while active, with access ENABLED, not past its
expiry, and not a provider who is deactivated or whose deactivation date has passed
(docs/architecture.md, "Principals and grants"). `denial_reason` is that rule for one user already
loaded; `acting_admin_q` is the same rule, plus `is_admin`, as a row filter over `User`. Both take
the moment `at` which they judge: `now` for a request, `FOREVER` for "never locked out", which
counts only admins who will still act once every date already set has passed. A test runs both
over one world of users and requires them to agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q, Subquery

from models.enums import AccessStatus, ProviderStatus

# Later than any expiry or deactivation date: who still acts then has no end date set.
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Standing:
    """What decides whether a user may act, as plain values (a user row and its provider's state)."""

    is_active: bool
    access_status: AccessStatus
    expires_at: datetime | None
    provider_status: str | None = None
    provider_deactivate_at: datetime | None = None

    @classmethod
    def of(cls, user: Any, provider_status: str | None = None, deactivate_at: datetime | None = None) -> Standing:
        """The standing of a `models.users.User` with its provider's status and date (if any)."""
        return cls(user.is_active, user.access_status, user.expires_at, provider_status, deactivate_at)


def provider_gone(standing: Standing, at: datetime) -> bool:
    """The user's provider profile is inactive, or its deactivation date has passed by `at`."""
    if standing.provider_status == ProviderStatus.INACTIVE.value:
        return True
    return standing.provider_deactivate_at is not None and standing.provider_deactivate_at <= at


def denial_reason(standing: Standing, at: datetime) -> str | None:
    """Why this user may not act at `at` (an ErrorCode name), or None when it may."""
    if not standing.is_active:
        return "ACCOUNT_INACTIVE"
    if standing.expires_at is not None and standing.expires_at <= at:
        return "ACCOUNT_EXPIRED"
    if standing.access_status is not AccessStatus.ENABLED:
        return "ACCESS_NOT_ENABLED"
    if provider_gone(standing, at):
        return "ACCOUNT_INACTIVE"
    return None


def acts_as_admin(is_admin: bool, standing: Standing, at: datetime) -> bool:
    """An administrator who can act at `at`: what "never locked out" counts."""
    return is_admin and denial_reason(standing, at) is None


def acting_admin_q(organization_id: Any, at: datetime) -> Q:
    """`acts_as_admin` as a filter over `models.users.User`: admins of the organization who can act
    at `at` (active, ENABLED, not expired then, provider neither INACTIVE nor deactivated by then)."""
    from models.providers import Provider

    gone = Subquery(
        Provider.filter(
            Q(status=ProviderStatus.INACTIVE) | Q(deactivate_at__lte=at), organization_id=organization_id
        ).values("user_id")
    )
    return Q(
        Q(organization_id=organization_id, is_admin=True, is_active=True, access_status=AccessStatus.ENABLED),
        Q(expires_at__isnull=True) | Q(expires_at__gt=at),
        ~Q(id__in=gone),
    )
