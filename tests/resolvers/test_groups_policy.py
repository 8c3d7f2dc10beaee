"""The groups' no-escalation check as a pure function (no database): which grants a change adds,
for the group itself, its members and new members, and which input field each refusal names."""

from __future__ import annotations

from permissions.catalog import Permission as P
from permissions.grants import ALL, Grants, GrantSources, GroupGrant, admin_grants
from resolvers.groups import EMPTY_GROUP, GroupState, escalation_problems

# The actor: CLIENTS_READ at A1, USERS_READ and GROUPS_MANAGE everywhere.
ACTOR = Grants({P.CLIENTS_READ: frozenset({"a1"}), P.USERS_READ: ALL, P.GROUPS_MANAGE: ALL})


def member(
    *sites: str, groups: tuple[GroupGrant, ...] = (), is_admin: bool = False, all_locations: bool = False
) -> GrantSources:
    return GrantSources(is_admin, all_locations, frozenset(sites), {str(i): g for i, g in enumerate(groups)})


def state(*permissions: P, locations: tuple[str, ...] | None = None) -> GroupState:
    return GroupState(frozenset(permissions), locations is None, frozenset(locations or ()))


def fields(problems) -> list[tuple[str, ...]]:
    assert all(p.code.value == "FORBIDDEN" for p in problems.items)
    return [p.field for p in problems.items]


def check(before, after, members=(), new=(), *, creating=False, actor=ACTOR):
    field = "memberIds" if creating else "addMemberIds"
    return fields(
        escalation_problems(actor, before, after, list(members), list(new), creating=creating, members_field=field)
    )


def test_within_the_actors_grants_nothing_is_refused() -> None:
    assert check(EMPTY_GROUP, state(P.CLIENTS_READ, locations=("a1",)), creating=True) == []
    assert check(EMPTY_GROUP, state(P.USERS_READ, P.GROUPS_MANAGE), creating=True) == []


def test_each_refusal_names_its_field() -> None:
    assert check(EMPTY_GROUP, state(P.BILLING_READ), creating=True) == [("input", "permissions")]
    assert check(EMPTY_GROUP, state(P.CLIENTS_READ), creating=True) == [("input", "allLocations")]
    assert check(EMPTY_GROUP, state(P.CLIENTS_READ, locations=("a2",)), creating=True) == [("input", "locationIds")]
    at_a1 = state(P.CLIENTS_READ, locations=("a1",))
    assert check(at_a1, state(P.CLIENTS_READ, locations=("a1", "a2"))) == [("input", "locationIds")]
    assert check(at_a1, state(P.CLIENTS_READ)) == [("input", "allLocations")]
    assert check(at_a1, state(P.CLIENTS_READ, P.BILLING_READ, locations=("a1",))) == [("input", "permissions")]
    # Held elsewhere, added where the group already is: the field that changed is at fault.
    assert check(state(P.USERS_READ, locations=("a2",)), state(P.CLIENTS_READ, locations=("a2",))) == [
        ("input", "permissions")
    ]


def test_only_what_a_change_adds_counts() -> None:
    beyond = state(P.BILLING_READ, P.BILLING_MANAGE)
    assert check(beyond, state(P.BILLING_READ)) == []  # removing
    assert check(beyond, beyond) == []  # renaming, describing


def test_new_members_are_checked_against_what_they_would_gain() -> None:
    everywhere = state(P.CLIENTS_READ)
    assert check(everywhere, everywhere, new=[member("a1")]) == []
    assert check(everywhere, everywhere, new=[member("a1", "a2")]) == [("input", "addMemberIds")]
    assert check(everywhere, everywhere, new=[member(all_locations=True)]) == [("input", "addMemberIds")]
    holds = GroupGrant(frozenset({P.CLIENTS_READ}), True)
    assert check(everywhere, everywhere, new=[member("a1", "a2", groups=(holds,))]) == []
    assert check(everywhere, everywhere, new=[member(is_admin=True)]) == []


def test_existing_members_gain_nothing_the_group_check_misses() -> None:
    at_a1 = state(P.CLIENTS_READ, locations=("a1",))
    wider = state(P.CLIENTS_READ, locations=("a1", "a2"))
    assert check(at_a1, wider, members=[member("a1", "a2")]) == [("input", "locationIds")]
    assert check(at_a1, wider, members=[member("a1")]) == [("input", "locationIds")]  # the group's own grant


def test_admins_may_give_anything() -> None:
    assert check(EMPTY_GROUP, state(*P), new=[member(all_locations=True)], creating=True, actor=admin_grants()) == []
