"""Seats (article 004: billed per user who can log in): every active staff user whose access is
INVITED or ENABLED takes one; a deactivated user frees its seat and needs one back to be reactivated.
A change that would pass the organization's seat limit fails whole, for one user or a batch.

An expired user keeps its seat: the expiry is a date the administrator set and may move, and the
account stays provisioned until then; deactivating it (or disabling access) frees the seat."""

from __future__ import annotations

from typing import Any

from models.enums import AccessStatus
from models.organization import Organization
from models.users import User
from permissions.principal import Principal
from resolvers.errors import ErrorCode, fail


async def seats_used(organization_id: Any) -> int:
    """The seats taken now: active users whose access is enabled, or invited and pending registration."""
    return await User.filter(organization_id=organization_id, **SEATED).count()


# The users who take a seat, as filter arguments over `models.users.User`.
SEATED: dict[str, Any] = {"is_active": True, "access_status__in": [AccessStatus.INVITED, AccessStatus.ENABLED]}


async def check_seats(principal: Principal, adding: int, *path: str) -> None:
    """A batch that would pass the seat limit fails whole. Locks the organization row first, so two
    batches at once count one after the other (PostgreSQL)."""
    if adding <= 0:
        return
    org = await Organization.filter(id=principal.organization.id).select_for_update().first()
    limit = org.seat_limit if org else None
    if limit is not None and await seats_used(principal.organization.id) + adding > limit:
        raise fail(
            ErrorCode.SEAT_LIMIT_REACHED,
            f"This would use more than the organization's {limit} seats.",
            *path,
        )
