"""The cast of the permission matrix: two organizations and the principals docs/architecture.md "Principals and
grants" names.

Org A has locations A1 and A2; org B has B1 and B2. Every principal holds a ready session token.
Later issues add principals here (providers, billing staff, portal accounts, integrations).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise import connections

from models.audit import AuditEvent
from models.enums import UserType
from models.organization import Location
from permissions.catalog import Permission as P
from tests.factories import Factory, Org, Partner, Portal, Staff

FRONT_DESK = [P.USERS_READ, P.PROVIDERS_READ, P.CLIENTS_READ, P.CLIENTS_MANAGE, P.CLIENT_PORTAL_MANAGE]
MANAGER = [P.USERS_READ, P.USERS_MANAGE, P.USERS_ACCESS_MANAGE, P.USERS_CREDENTIALS_RESET, P.PROVIDERS_READ]
RESTRICTED = [P.USERS_READ, P.USERS_MANAGE, P.PROVIDERS_READ, P.CLIENTS_READ, P.CLIENTS_MANAGE]
BILLING = [P.BILLING_READ, P.CLIENTS_COVERAGE_READ, P.CLIENTS_READ, P.PROVIDERS_READ]
PROVIDER_OWN = [P.CLIENTS_READ_OWN, P.PROVIDERS_READ]


@dataclass
class World:
    a: Org
    b: Org
    principals: dict[str, Staff | Portal | Partner | None]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def a1(self) -> Location:
        return self.a.locations[0]

    @property
    def a2(self) -> Location:
        return self.a.locations[1]

    @property
    def b1(self) -> Location:
        return self.b.locations[0]

    def token(self, principal: str) -> str | None:
        staff = self.principals[principal]
        return staff.token if staff else None


PRINCIPALS = (
    "anonymous",
    "admin_a",
    "admin_b",
    "manager_a1",
    "front_desk_a1",
    "no_group",
    "restricted_a2",
    "billing_a1",
    "provider_a1",
)


@dataclass(frozen=True)
class WorldStep:
    """One domain's addition to the world: `build(world, factory)` adds the principals and
    `world.extra` entries named in `adds`, and may use those in `needs`, which the base world or an
    earlier step must have added. The steps run in one written order (`WORLD` in
    tests/permissions/test_matrix.py), checked by `check_order` and again while the world is built."""

    build: Callable[[World, Factory], Awaitable[None]]
    adds: tuple[str, ...]
    needs: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.build.__module__}.{self.build.__name__}"


def check_order(steps: Sequence[WorldStep]) -> None:
    """Raise AssertionError unless every step's needs are met by the base world or an earlier step,
    and no two steps add the same name."""
    present = set(PRINCIPALS)
    for step in steps:
        missing = set(step.needs) - present
        assert not missing, f"{step.name} needs {sorted(missing)}, which no earlier step adds"
        twice = set(step.adds) & present
        assert not twice, f"{step.name} adds {sorted(twice)}, which are already there"
        present |= set(step.adds)


def _names(world: World) -> set[str]:
    return set(world.principals) | set(world.extra)


async def build_world(factory: Factory, steps: Sequence[WorldStep] = ()) -> World:
    a = await factory.organization("clinic-a")
    b = await factory.organization("clinic-b")
    a1, a2 = a.locations
    manager_group = await factory.group(a.organization, MANAGER, name="Manager A1", locations=[a1])
    front_desk = await factory.group(a.organization, FRONT_DESK, name="Front desk")
    restricted = await factory.group(a.organization, RESTRICTED, name="Only A2", locations=[a2])
    billing = await factory.group(a.organization, BILLING, name="Billing")
    own = await factory.group(a.organization, PROVIDER_OWN, name="Providers")
    principals: dict[str, Staff | Portal | Partner | None] = {
        "anonymous": None,
        "admin_a": a.admin,
        "admin_b": b.admin,
        "manager_a1": await factory.user(
            a.organization, username="manager", type=UserType.MANAGER, locations=[a1, a2], groups=[manager_group]
        ),
        "front_desk_a1": await factory.user(a.organization, username="frontdesk", locations=[a1], groups=[front_desk]),
        "no_group": await factory.user(a.organization, username="nogroup", locations=[a1]),
        "restricted_a2": await factory.user(
            a.organization, username="restricted", all_locations=True, groups=[restricted]
        ),
        "billing_a1": await factory.user(
            a.organization, username="billing", type=UserType.BILLING, locations=[a1], groups=[billing]
        ),
        "provider_a1": await factory.user(
            a.organization, username="provider", type=UserType.PROVIDER, locations=[a1], groups=[own]
        ),
    }
    world = World(a=a, b=b, principals=principals)
    check_order(steps)
    for step in steps:
        before = _names(world)
        await step.build(world, factory)
        added = _names(world) - before
        assert added == set(step.adds), f"{step.name} declares it adds {sorted(step.adds)}, but added {sorted(added)}"
    return world


FINGERPRINT_TABLES = (
    "organizations",
    "locations",
    "users",
    "user_locations",
    "permission_groups",
    "group_locations",
    "group_memberships",
    "providers",
    "clients",
    "staff_tokens",
    "outbox_messages",
    "portal_accounts",
    "client_portal_links",
    "client_invitations",
    "client_merges",
    "integrations",
    "integration_locations",
)


async def fingerprint() -> str:
    """A hash of every row that a refused operation must leave alone (the audit trail and session
    bookkeeping excepted: a refusal is itself recorded)."""
    conn = connections.get("default")
    digest = hashlib.sha256()
    for table in FINGERPRINT_TABLES:
        _, rows = await conn.execute_query(f"SELECT * FROM {table} ORDER BY id")
        for row in rows:
            digest.update(repr(sorted(dict(row).items())).encode())
    # Session and token bookkeeping (last use) may change on any request; what they open may not.
    for query in (
        "SELECT id, revoked_at FROM sessions ORDER BY id",
        "SELECT id, revoked_at, expires_at, token_hash FROM api_tokens ORDER BY id",
    ):
        _, rows = await conn.execute_query(query)
        for row in rows:
            digest.update(repr(sorted(dict(row).items())).encode())
    return digest.hexdigest()


REFUSED_SUFFIX = ".refused"


async def refusal_events() -> dict[str, dict[str, Any]]:
    """Every refusal on the trail, by id: `<operation>.refused` events (docs/architecture.md "Audit and PHI access",
    issue 7), whether
    written for a top-level FORBIDDEN or by `attempt()` for a FORBIDDEN UserError. The fingerprint
    leaves the trail out; the matrix compares these before and after a row instead."""
    rows = await AuditEvent.filter(action__endswith=REFUSED_SUFFIX).values("id", "action", "actor_id", "changes")
    return {str(row["id"]): row for row in rows}
