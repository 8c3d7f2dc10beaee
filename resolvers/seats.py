"""Seats (article 004: billed per user): every INVITED or ENABLED staff user takes one, and a change
that would pass the organization's seat limit fails whole, for one user or a batch."""

from __future__ import annotations

from typing import Any

from models.enums import AccessStatus
from models.organization import Organization
from models.users import User
from permissions.principal import Principal
from resolvers.errors import ErrorCode, fail


async def seats_used(organization_id: Any) -> int:
    """The seats taken now: users whose access is enabled, or invited and pending registration."""
    return await User.filter(
        organization_id=organization_id, access_status__in=[AccessStatus.INVITED, AccessStatus.ENABLED]
    ).count()


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
