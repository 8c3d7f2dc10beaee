"""Grant changes run one at a time per organization, and never lock it out (docs/architecture.md,
"No escalation" and "Never locked out").

Every mutation that adds, restores or hands over grants, or may remove an acting admin, first calls
`lock_grants`: on PostgreSQL it takes the organization's row lock for the rest of the transaction,
so two such changes run one after the other and the second judges the state the first left (two
calls that are each allowed cannot combine into a result neither could make; two admins demoting
each other at once cannot both succeed). SQLite serializes writers anyway.

A change that may remove an acting admin applies its writes, then calls `ensure_admin_remains`
before its transaction commits: the check sees the state after the change, whatever it was, and
counts only admins who will still act once every date already set has passed (an expiry, a
provider deactivation date), so no date can lock the organization out later with no request to
refuse then. The rule itself is `permissions.standing.acting_admin_q`.
"""

from __future__ import annotations

from typing import Any

from models.organization import Organization
from models.users import User
from permissions.standing import FOREVER, acting_admin_q
from resolvers.errors import ErrorCode, fail

LAST_ADMIN_MESSAGE = "This would leave the organization without an active administrator."


async def lock_grants(organization_id: Any) -> None:
    """Hold the organization's grant-change lock until the transaction ends (a model queryset, so
    `FOR UPDATE` is really sent: `.values()` would drop it)."""
    await Organization.filter(id=organization_id).select_for_update().first()


async def ensure_admin_remains(organization_id: Any, *field: str) -> None:
    """Raise LAST_ADMIN (rolling the transaction back) unless an admin with no end date still acts."""
    if not await User.filter(acting_admin_q(organization_id, FOREVER)).exists():
        raise fail(ErrorCode.LAST_ADMIN, LAST_ADMIN_MESSAGE, *field)
