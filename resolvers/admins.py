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

from datetime import UTC, datetime
from typing import Any

from models.organization import Organization
from models.users import User
from permissions.catalog import Permission
from permissions.errors import forbidden
from permissions.principal import Principal
from permissions.standing import FOREVER, Standing, acting_admin_q, denial_reason
from resolvers.errors import ErrorCode, fail
from resolvers.user_grants import load_user_access

LAST_ADMIN_MESSAGE = "This would leave the organization without an active administrator."


CHANGED_MESSAGE = "Your access changed while this request was waiting: reload and try again."


async def lock_grants(principal: Principal, needs: Permission | None = None) -> None:
    """Hold the organization's grant-change lock until the transaction ends (a model queryset, so
    `FOR UPDATE` is really sent: `.values()` would drop it), then judge the actor as it stands now.

    The principal was read when the request began; a change that committed while this one waited
    (another admin demoting this actor, say) must count, or two calls could each pass on what the
    other was undoing. So its user row, grants and sites are read again under the lock (two statements, on
    grant-changing mutations only), and an actor who may no longer act is refused, as is one who no
    longer holds `needs`: the permission the field asked for before the lock, for a call that asks
    nothing more of the actor's grants afterwards (an org-wide INTEGRATIONS_MANAGE, GROUPS_MANAGE or
    LOCATIONS_MANAGE; the calls that ask it again per target, at its sites, need not name it)."""
    await Organization.filter(id=principal.organization.id).select_for_update().first()
    if principal.user is not None:
        user = await User.filter(id=principal.user.id).first()
        access = await load_user_access(principal.organization.id, principal.user.id)
        standing = Standing.of(user, access.provider_status, access.provider_deactivate_at) if user else None
        if user is None or standing is None or denial_reason(standing, datetime.now(UTC)) is not None:
            raise forbidden(CHANGED_MESSAGE)
        active = access.sources(inactive_locations=False)
        principal.user = user
        principal.grants, principal.sites = active.grants(), active.reach()
    if needs is not None and not principal.grants.allows(needs):
        raise forbidden(f"This needs the {needs.value} permission. {CHANGED_MESSAGE}")


async def ensure_admin_remains(organization_id: Any, *field: str) -> None:
    """Raise LAST_ADMIN (rolling the transaction back) unless an admin with no end date still acts."""
    if not await User.filter(acting_admin_q(organization_id, FOREVER)).exists():
        raise fail(ErrorCode.LAST_ADMIN, LAST_ADMIN_MESSAGE, *field)
