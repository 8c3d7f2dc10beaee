"""No one gives what they do not have (docs/architecture.md, "No escalation").

`escalation_problems` compares a principal's grants before and after a change with the actor's
own: every grant the change adds must already be the actor's. Every mutation that can add grants
(user groups, sites, allLocations, isAdmin; group permissions, locations, members; integrations)
calls it with the target's grants computed both ways, and refuses the whole input with a FORBIDDEN
UserError naming the field when it answers anything. Restoring grants and taking over an account
are the same rule with `before` empty (resolvers/user_rules.py `check_restore`, `check_takeover`).
"Never locked out" is resolvers/admins.py over permissions/standing.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from permissions.catalog import Permission
from permissions.grants import ALL, Grants, Scope


@dataclass(frozen=True)
class Excess:
    """A grant the change would add that the actor lacks."""

    permission: Permission
    scope: Scope

    def describe(self) -> str:
        """What the refusal names: the permission, and not how many locations lie outside the actor's
        reach (a count of what it may not see: a group's or a user's hidden sites)."""
        where = "at every location" if self.scope is ALL else "at locations outside your reach"
        return f"{self.permission.value} {where}"


def excess_grants(actor: Grants, before: Grants, after: Grants, *, to_another: bool = True) -> list[Excess]:
    """The grants `after` adds over `before` that `actor` does not hold itself, each as it reaches
    for another user than the actor (`Grants.to_another`): giving someone else "My Clients" gives them
    clients the actor's own "My Clients" do not reach, so it needs CLIENTS_READ there, whether the
    actor then acts as that user (sets its password) or not, in whichever order. `to_another=False`
    for what the actor hands itself (its own email redirected through `updateUser`), which reaches its
    own rows.
    (Between two sets of the same holder's grants it makes no other difference: what the actor held
    before is not added.)"""
    if to_another:
        before, after = before.to_another(), after.to_another()
    added = after.added_since(before)
    return [Excess(p, s) for p, s in added.excess_over(actor).items()]


def escalation_message(excess: list[Excess]) -> str:
    """The refusal's text: each permission named once per reach it lacks (`Excess.describe`), however
    many members or grants lack it the same way, so the text tells no count of hidden sites either."""
    described = list(dict.fromkeys(e.describe() for e in excess))
    listed = ", ".join(described[:5])
    more = f" and {len(described) - 5} more" if len(described) > 5 else ""
    return f"You cannot grant what you do not hold: {listed}{more}."
