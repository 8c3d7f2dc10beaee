"""permissions/escalation.py: no one gives what they do not have; the last admin stays."""

from __future__ import annotations

from permissions.catalog import Permission as P
from permissions.escalation import Excess, escalation_message, excess_grants
from permissions.grants import ALL, NO_GRANTS, Grants, admin_grants

A1, A2 = "loc-a1", "loc-a2"


def test_adding_what_the_actor_holds_is_fine():
    actor = Grants({P.USERS_READ: frozenset({A1, A2}), P.CLIENTS_READ: ALL})
    before = NO_GRANTS
    after = Grants({P.USERS_READ: frozenset({A1}), P.CLIENTS_READ: frozenset({A2})})
    assert excess_grants(actor, before, after) == []


def test_adding_more_than_the_actor_holds_is_named():
    actor = Grants({P.USERS_READ: frozenset({A1})})
    after = Grants({P.USERS_READ: frozenset({A1, A2}), P.AUDIT_READ: ALL})
    excess = excess_grants(actor, NO_GRANTS, after)
    assert set(excess) == {Excess(P.USERS_READ, frozenset({A2})), Excess(P.AUDIT_READ, ALL)}


def test_what_the_target_already_had_is_not_an_escalation():
    """Only what the change adds counts: an actor may edit a user who holds more elsewhere."""
    actor = Grants({P.USERS_READ: frozenset({A1})})
    before = Grants({P.AUDIT_READ: ALL, P.USERS_READ: frozenset({A2})})
    after = Grants({P.AUDIT_READ: ALL, P.USERS_READ: frozenset({A1, A2})})
    assert excess_grants(actor, before, after) == []


def test_removing_is_never_an_escalation():
    assert excess_grants(NO_GRANTS, admin_grants(), NO_GRANTS) == []


def test_granting_admin_needs_admin():
    actor = Grants({p: ALL for p in P if p is not P.INTEGRATIONS_MANAGE})
    excess = excess_grants(actor, NO_GRANTS, admin_grants())
    assert excess == [Excess(P.INTEGRATIONS_MANAGE, ALL)]
    assert excess_grants(admin_grants(), NO_GRANTS, admin_grants()) == []


def test_widening_a_location_grant_to_all():
    actor = Grants({P.CLIENTS_READ: frozenset({A1, A2})})
    excess = excess_grants(actor, Grants({P.CLIENTS_READ: frozenset({A1})}), Grants({P.CLIENTS_READ: ALL}))
    assert excess == [Excess(P.CLIENTS_READ, ALL)]


def test_message_names_the_permissions():
    message = escalation_message([Excess(P.USERS_READ, frozenset({A2})), Excess(P.AUDIT_READ, ALL)])
    assert "USERS_READ at locations outside your reach" in message
    # How many: not said (a count of locations the actor may not see), nor how many footprints
    # (members at different hidden sites) lack it: the permission is named once.
    one = escalation_message([Excess(P.USERS_READ, frozenset({A2}))])
    assert escalation_message([Excess(P.USERS_READ, frozenset({A1, A2}))]) == one
    assert escalation_message([Excess(P.USERS_READ, frozenset({A1, A2})), Excess(P.USERS_READ, frozenset({A2}))]) == one
    assert "AUDIT_READ at every location" in message
    many = escalation_message([Excess(p, ALL) for p in list(P)[:8]])
    assert many.endswith("and 3 more.")
