"""permissions/grants.py: what a principal holds, and where (docs/architecture.md "Principals and grants"), without a
database."""

from __future__ import annotations

import pytest

from permissions.catalog import ORG_WIDE
from permissions.catalog import Permission as P
from permissions.grants import ALL, NO_GRANTS, Grants, GroupGrant, admin_grants, compute_grants

A1, A2, A3 = "loc-a1", "loc-a2", "loc-a3"


def group(*permissions: P, locations: tuple[str, ...] | None = None) -> GroupGrant:
    return GroupGrant(
        permissions=frozenset(permissions),
        all_locations=locations is None,
        location_ids=frozenset(locations or ()),
    )


def grants(*groups: GroupGrant, sites=(A1, A2), all_locations=False, is_admin=False) -> Grants:
    return compute_grants(is_admin=is_admin, all_locations=all_locations, site_ids=sites, groups=groups)


def test_admin_holds_everything_everywhere():
    held = grants(is_admin=True, sites=())
    assert held == admin_grants()
    for permission in P:
        assert held.scope(permission) is ALL
        assert held.has(permission) and held.has(permission, A3)


def test_no_groups_hold_nothing():
    held = grants(sites=(A1, A2), all_locations=True)
    assert held == NO_GRANTS and held.held == {}
    assert not held.has_anywhere(P.USERS_READ)


def test_location_permission_at_sites_intersect_group_scope():
    held = grants(group(P.USERS_READ, locations=(A2, A3)), sites=(A1, A2))
    assert held.scope(P.USERS_READ) == frozenset({A2})
    assert held.has(P.USERS_READ, A2) and not held.has(P.USERS_READ, A1) and not held.has(P.USERS_READ, A3)
    assert not held.has(P.USERS_READ)  # not org-wide


def test_unrestricted_group_follows_the_sites():
    held = grants(group(P.CLIENTS_READ), sites=(A1,))
    assert held.scope(P.CLIENTS_READ) == frozenset({A1})


def test_all_locations_user_in_restricted_group_gets_the_group_scope():
    held = grants(group(P.CLIENTS_READ, locations=(A3,)), sites=(), all_locations=True)
    assert held.scope(P.CLIENTS_READ) == frozenset({A3})


def test_all_locations_user_in_unrestricted_group_holds_all():
    held = grants(group(P.CLIENTS_READ), sites=(), all_locations=True)
    assert held.scope(P.CLIENTS_READ) is ALL and held.has(P.CLIENTS_READ)


def test_disjoint_scopes_hold_nothing():
    held = grants(group(P.USERS_READ, locations=(A3,)), sites=(A1,))
    assert P.USERS_READ not in held.held and not held.has_anywhere(P.USERS_READ)


def test_groups_add_up():
    held = grants(group(P.USERS_READ, locations=(A1,)), group(P.USERS_READ, locations=(A2,)), sites=(A1, A2))
    assert held.scope(P.USERS_READ) == frozenset({A1, A2})
    held = grants(group(P.USERS_READ, locations=(A1,)), group(P.USERS_READ), sites=(), all_locations=True)
    assert held.scope(P.USERS_READ) is ALL


@pytest.mark.parametrize("permission", sorted(ORG_WIDE, key=lambda p: p.value))
def test_org_wide_only_through_an_unrestricted_group(permission):
    assert grants(group(permission), sites=(A1,)).scope(permission) is ALL
    assert grants(group(permission, locations=(A1,)), sites=(A1,)).scope(permission) == frozenset()
    assert not grants(group(permission, locations=(A1, A2)), sites=(), all_locations=True).has(permission)


def test_org_wide_through_unrestricted_group_even_with_no_sites():
    """Org-wide permissions are not about sites (docs/architecture.md "Principals and grants": held org-wide if the
    group is unrestricted)."""
    assert grants(group(P.GROUPS_MANAGE), sites=()).has(P.GROUPS_MANAGE)


def test_has_everywhere():
    held = grants(group(P.USERS_MANAGE, locations=(A1, A2)), sites=(A1, A2))
    assert held.has_everywhere(P.USERS_MANAGE, [A1, A2])
    assert not held.has_everywhere(P.USERS_MANAGE, [A1, A3])
    assert held.has_everywhere(P.USERS_MANAGE, [])
    assert admin_grants().has_everywhere(P.USERS_MANAGE, [A3])


def test_locations_as_a_row_filter():
    held = grants(group(P.CLIENTS_READ, locations=(A1,)), group(P.USERS_READ))
    assert held.locations(P.CLIENTS_READ) == frozenset({A1})
    assert held.locations(P.AUDIT_READ) == frozenset()
    assert admin_grants().locations(P.CLIENTS_READ) is None


def test_ids_are_compared_as_strings():
    import uuid

    loc = uuid.uuid4()
    held = grants(group(P.CLIENTS_READ, locations=(str(loc),)), sites=(str(loc),))
    assert held.has(P.CLIENTS_READ, loc)
    assert held.has_everywhere(P.CLIENTS_READ, [loc])


def test_excess_over_and_added_since():
    actor = Grants({P.USERS_READ: frozenset({A1}), P.CLIENTS_READ: ALL})
    target = Grants({P.USERS_READ: frozenset({A1, A2}), P.CLIENTS_READ: frozenset({A3}), P.AUDIT_READ: ALL})
    assert target.excess_over(actor) == {P.USERS_READ: frozenset({A2}), P.AUDIT_READ: ALL}
    assert actor.excess_over(actor) == {}
    assert Grants({P.USERS_READ: ALL}).excess_over(Grants({P.USERS_READ: frozenset({A1})})) == {P.USERS_READ: ALL}
    before = Grants({P.USERS_READ: frozenset({A1})})
    after = Grants({P.USERS_READ: frozenset({A1, A2}), P.CLIENTS_READ: frozenset({A1})})
    assert after.added_since(before) == Grants({P.USERS_READ: frozenset({A2}), P.CLIENTS_READ: frozenset({A1})})
    assert before.added_since(after) == NO_GRANTS
    assert admin_grants().added_since(admin_grants()) == NO_GRANTS


def test_all_is_a_singleton():
    from permissions.grants import _All

    assert _All("ALL") is ALL and repr(ALL) == "ALL"
