"""Never locked out (DESIGN §3): no change may leave an organization without an admin who can act.

A change that may remove an acting admin (deactivating, expiring, disabling access of, or removing
`isAdmin` from one, oneself included) first calls `lock_admins` (on PostgreSQL two such changes
then run one after the other, so two admins demoting each other at once cannot both succeed),
applies its writes, and calls `ensure_admin_remains` before its transaction commits: the check sees
the state after the change, whatever the change was. Giving an admin an expiry date also calls
`ensure_admin_remains_for_good`: the date would otherwise lock the organization out when it passes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q, Subquery

from models.enums import AccessStatus, ProviderStatus
from models.providers import Provider
from models.users import User
from resolvers.errors import ErrorCode, fail

LAST_ADMIN_MESSAGE = "This would leave the organization without an active administrator."


def acting_admin_q(organization_id: Any, now: datetime) -> Q:
    """Admins who can act right now: active, access ENABLED, not expired, and not a provider who is
    deactivated or whose deactivation date has passed (they cannot log in: resolvers.sessions)."""
    gone = Subquery(
        Provider.filter(
            Q(status=ProviderStatus.INACTIVE) | Q(deactivate_at__lte=now), organization_id=organization_id
        ).values("user_id")
    )
    return Q(
        Q(organization_id=organization_id, is_admin=True, is_active=True, access_status=AccessStatus.ENABLED),
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
        ~Q(id__in=gone),
    )


async def lock_admins(organization_id: Any) -> None:
    """Lock the organization's admin rows for the rest of the transaction (a no-op on SQLite, which
    serializes writers anyway)."""
    await User.filter(organization_id=organization_id, is_admin=True).select_for_update().values_list("id", flat=True)


async def ensure_admin_remains(organization_id: Any, now: datetime, *field: str) -> None:
    """Raise LAST_ADMIN (rolling the transaction back) when no acting admin is left."""
    if not await User.filter(acting_admin_q(organization_id, now)).exists():
        raise fail(ErrorCode.LAST_ADMIN, LAST_ADMIN_MESSAGE, *field)


# Later than any expiry or deactivation date: an admin still acting then has no end date.
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


async def ensure_admin_remains_for_good(organization_id: Any, *field: str) -> None:
    """Raise LAST_ADMIN unless an acting admin with no end date (no expiry, no provider deactivation
    date) is left: giving the last such admin an expiry date would lock the organization out the day
    it passes, with no request to refuse then."""
    if not await User.filter(acting_admin_q(organization_id, FOREVER)).exists():
        raise fail(ErrorCode.LAST_ADMIN, LAST_ADMIN_MESSAGE, *field)
