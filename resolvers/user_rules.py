"""Who may see and change a staff user, and what may be given to one (docs/architecture.md "Principals and grants").

- a target out of the viewer's scope (or another organization's, or a malformed id) is NOT_FOUND,
  exactly like a random id, so an id tells nothing (`load_target`);
- changing a user needs the permission at EVERY one of the target's sites, and only an admin
  changes an admin (`check_may_change`); putting a user at sites needs the permission at each of
  them (`check_may_assign_sites`); only an admin grants `isAdmin` (`actor_is_admin`);
- no one gives what they do not have: the target's grants are computed before and after and the
  whole input is refused with FORBIDDEN at the field responsible (`check_escalation`);
- restoring grants is granting (`check_restore`), and so is taking over an account by setting its
  credentials or sending it a link (`check_takeover`): the target's configured grants must lie
  within the actor's (docs/architecture.md, "No escalation").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tortoise.expressions import Q, Subquery

from models.organization import Location
from models.users import User, UserLocation
from permissions.catalog import Permission
from permissions.escalation import escalation_message, excess_grants
from permissions.grants import NO_GRANTS, Grants, GrantSources
from permissions.principal import Principal
from permissions.scoping import can_change_user, can_see_location, can_see_user
from resolvers.errors import ErrorCode, fail
from resolvers.inputs import parse_uuid
from resolvers.user_grants import UserAccess, load_user_access


@dataclass
class Target:
    """A user the viewer may see, with what its grants are computed from (`access`)."""

    user: User
    access: UserAccess

    @property
    def site_ids(self) -> frozenset[str]:
        """Every location the user is linked to, active or not: changing a user needs them all."""
        return self.access.configured.sites


def at_location_q(principal: Principal, location_id: Any, via: str | None = None) -> Q:
    """A list filter's `locationId` as a Q: the users working at that location (linked to it, or
    working at all locations), over User itself or, with `via="user"`, over a model whose foreign key
    `via` is the user (Provider). The one rule of the `users` and `providers` filters: an id that is
    malformed, unknown, another organization's or a location the viewer may not see matches nothing,
    or it would tell where a user works although `User.locations` hides that site (and an
    all-locations user does not work at another organization's location)."""
    lid = parse_uuid(location_id)
    if lid is None or not can_see_location(principal, str(lid)):
        return Q(id__in=[])
    everywhere = f"{via}__all_locations" if via else "all_locations"
    user_id = f"{via}_id" if via else "id"
    ours = Subquery(Location.filter(id=lid, organization_id=principal.organization.id).values("organization_id"))
    linked = Subquery(UserLocation.filter(location_id=lid).values("user_id"))
    anywhere: dict[str, Any] = {everywhere: True, "organization_id__in": ours}
    at_it: dict[str, Any] = {f"{user_id}__in": linked}
    return Q(Q(**anywhere), Q(**at_it), join_type=Q.OR)


async def load_target(principal: Principal, user_id: Any, *path: str, lock: bool = False) -> Target:
    """The user behind `user_id` if the viewer may see it; else NOT_FOUND exactly like a random id."""
    uid = parse_uuid(user_id)
    user = None
    if uid is not None:
        query = User.filter(id=uid, organization_id=principal.organization.id)
        user = await (query.select_for_update() if lock else query).first()
    if user is not None:
        access = await load_user_access(principal.organization.id, user.id)
        if can_see_user(principal, str(user.id), user.all_locations, access.configured.sites):
            return Target(user, access)
    raise fail(ErrorCode.NOT_FOUND, "No such user.", *path)


def actor_is_admin(principal: Principal) -> bool:
    """Whether the actor is an administrator: only one may grant, remove or change admin access."""
    return principal.user is not None and principal.user.is_admin


def check_may_change(principal: Principal, target: Target, permission: Permission, *path: str) -> None:
    """docs/architecture.md "Principals and grants": the permission at every one of the target's sites; an admin only
    by an admin."""
    if target.user.is_admin and not actor_is_admin(principal):
        raise fail(ErrorCode.FORBIDDEN, "Only an administrator may change an administrator.", *path)
    if not can_change_user(principal.grants, permission, target.user.all_locations, target.site_ids):
        raise fail(
            ErrorCode.FORBIDDEN,
            f"This needs {permission.value} at every location where this user works.",
            *path,
        )


def check_may_assign_sites(
    principal: Principal, permission: Permission, all_locations: bool, site_ids: frozenset[str], *path: str
) -> None:
    """Putting a user at sites needs the permission at each of them (at ALL for allLocations)."""
    if not can_change_user(principal.grants, permission, all_locations, site_ids):
        raise fail(ErrorCode.FORBIDDEN, f"This needs {permission.value} at every location you select.", *path)


def check_escalation(
    principal: Principal, old: GrantSources, new: GrantSources, paths: dict[str, tuple[str, ...]]
) -> None:
    """No one gives what they do not have: refuse the whole input when `new` adds grants over `old`
    that the actor lacks, with FORBIDDEN at the field responsible (isAdmin, permissionGroupIds or sites:
    the one whose change, undone, leaves nothing in excess)."""
    before = old.grants()
    excess = excess_grants(principal.grants, before, new.grants())
    if not excess:
        return
    if new.is_admin and not old.is_admin:
        blame = paths["isAdmin"]
    elif not excess_grants(principal.grants, before, replace(new, groups=old.groups).grants()):
        blame = paths["permissionGroupIds"]
    elif not excess_grants(
        principal.grants, before, replace(new, sites=old.sites, all_locations=old.all_locations).grants()
    ):
        blame = paths["sites"]
    else:
        blame = paths["permissionGroupIds"] if set(new.groups) != set(old.groups) else paths["sites"]
    raise fail(ErrorCode.FORBIDDEN, escalation_message(excess), *blame)


def _check_within_actor(principal: Principal, user_id: Any, given: Grants, why: str, *path: str) -> None:
    """FORBIDDEN at `path` unless every grant `given` to user `user_id` is already the actor's."""
    excess = excess_grants(principal.grants, NO_GRANTS, given, to_another=str(user_id) != principal.actor_id)
    if excess:
        raise fail(ErrorCode.FORBIDDEN, f"{why} {escalation_message(excess)}", *path)


def check_takeover(principal: Principal, user_id: Any, sources: GrantSources, *path: str) -> None:
    """Taking over an account is granting: setting another user's password or PIN, sending them a
    reset or registration link, or redirecting the email of one who has no password yet lets the
    actor become that user, so the user's configured grants (isAdmin and org-wide ones included)
    must lie within the actor's.

    Never to oneself: one's own password, PIN and email change through changePassword and
    updateMyProfile, which ask for the current password, so a session left open on a front-desk
    computer is not enough to keep the account (an admin's least of all)."""
    if str(user_id) == principal.actor_id:
        raise fail(
            ErrorCode.FORBIDDEN,
            "Change your own password, PIN or email with changePassword or updateMyProfile, which ask for your "
            "current password.",
            *path,
        )
    why = "Setting this user's credentials would hand you their access."
    _check_within_actor(principal, user_id, sources.grants(), why, *path)


def check_restore(principal: Principal, user_id: Any, sources: GrantSources, *path: str) -> None:
    """Restoring grants is granting: reactivating, enabling access, clearing or postponing an expiry,
    or calling off a provider's deactivation gives the user its configured grants back.

    Never to oneself: an end date (a temporary hire's expiry, a leaver's deactivation) is set by
    someone else to end this user's access, and the user's own USERS_MANAGE or PROVIDERS_DEACTIVATE
    would otherwise undo it. Another manager extends it (the last-admin rule keeps an admin with no
    end date, so an admin's own end date always has someone to extend it)."""
    if str(user_id) == principal.actor_id:
        raise fail(ErrorCode.FORBIDDEN, "Your own end date is for someone else to extend or call off.", *path)
    why = "This would give the user back access you do not hold."
    _check_within_actor(principal, user_id, sources.grants(), why, *path)
