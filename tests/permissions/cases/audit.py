"""Matrix rows for the audit trail query (AUDIT_READ, organization-wide).

The world gains (`add_audit_events`) one event in each organization, so a row can show that one
organization never reads the other's trail.
"""

from __future__ import annotations

from models.enums import ActorKind
from tests.factories import Factory, audit_event
from tests.permissions.cases.base import Case, fixed
from tests.permissions.cases.expect import FORBIDDEN, OK, UNAUTHENTICATED
from tests.permissions.world import World, WorldStep


async def add_audit_events(world: World, factory: Factory) -> None:
    for org, action in ((world.a, "matrix.a"), (world.b, "matrix.b")):
        await audit_event(org, action, actor_kind=ActorKind.SYSTEM)


WORLD = (WorldStep(add_audit_events, adds=()),)

EVENTS = "{ auditEvents { totalCount edges { node { action actorKind location { id } changes } } } }"


events = fixed(EVENTS)


def only(action: str, other: str):
    def check(w, data):
        found = {e["node"]["action"] for e in data["edges"]}
        assert action in found and other not in found

    return check


CASES = [
    Case("own organization", "auditEvents", "admin_a", "org A trail", OK, events, only("matrix.a", "matrix.b")),
    Case("own organization", "auditEvents", "admin_b", "org B trail", OK, events, only("matrix.b", "matrix.a")),
    Case("no AUDIT_READ", "auditEvents", "manager_a1", "org A trail", FORBIDDEN, events),
    Case("restricted group", "auditEvents", "restricted_a2", "org A trail", FORBIDDEN, events),
    Case("GROUPS_MANAGE only", "auditEvents", "groups_admin_a", "org A trail", FORBIDDEN, events),
    Case("no group", "auditEvents", "no_group", "org A trail", FORBIDDEN, events),
    Case("no token", "auditEvents", "anonymous", "org A trail", UNAUTHENTICATED, events),
]
