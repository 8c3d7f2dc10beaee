"""The standing rule and its SQL twin agree (permissions/standing.py): over a world of admins in
every state, `acting_admin_q` selects exactly the users `acts_as_admin` accepts, now and FOREVER."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from models.enums import AccessStatus, ProviderStatus
from models.users import User
from permissions.standing import FOREVER, Standing, acting_admin_q, acts_as_admin
from tests.factories import Factory, Org, make_provider

NOW = datetime.now(UTC)
EXPIRIES = [None, NOW - timedelta(days=1), NOW + timedelta(days=1)]
PROVIDERS = [
    None,
    (ProviderStatus.ACTIVE, None),
    (ProviderStatus.DEACTIVATION_SCHEDULED, NOW + timedelta(days=3)),
    (ProviderStatus.DEACTIVATION_SCHEDULED, NOW - timedelta(minutes=1)),
    (ProviderStatus.INACTIVE, None),
]


async def test_predicate_and_filter_agree(factory: Factory, org_a: Org, org_b: Org) -> None:
    standings: dict[str, tuple[bool, Standing]] = {
        str(org_a.admin.user.id): (True, Standing.of(org_a.admin.user)),
    }
    combos = itertools.product([True, False], [True, False], list(AccessStatus), EXPIRIES, PROVIDERS)
    for n, (is_admin, active, access, expires_at, provider) in enumerate(combos):
        staff = await factory.user(
            org_a.organization,
            username=f"u{n}",
            is_admin=is_admin,
            active=active,
            access=access,
            expires_at=expires_at,
            session=False,
        )
        status, deactivate_at = provider or (None, None)
        if provider is not None:
            await make_provider(staff.user, status=status, deactivate_at=deactivate_at)
        standing = Standing.of(staff.user, status.value if status else None, deactivate_at)
        standings[str(staff.user.id)] = (is_admin, standing)
    for at in (NOW, FOREVER):
        selected = {
            str(u) for u in await User.filter(acting_admin_q(org_a.organization.id, at)).values_list("id", flat=True)
        }
        expected = {uid for uid, (is_admin, standing) in standings.items() if acts_as_admin(is_admin, standing, at)}
        assert selected == expected, at
        assert str(org_b.admin.user.id) not in selected
    # The world is not trivial: some admins act now but not for good, some for good.
    assert len(standings) > 100
