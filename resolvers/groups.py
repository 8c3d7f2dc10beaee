"""Permission groups: create, update, delete, and the reads (docs/architecture.md "Principals and grants"; Onvio staff
access).

A group is a set of permissions, held by its members at `sites ∩ group locations` (or everywhere
when unrestricted). Changing a group changes every member's grants, so each change goes through
the no-escalation rule: the group's own grant (its permissions at ALL or at its locations) and the
grants of every affected member are computed before and after, and anything added that the actor
does not hold refuses the whole input with a FORBIDDEN UserError naming the field. Names are unique
per organization regardless of case (`name_key`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.groups import GroupLocation, GroupMembership, PermissionGroup
from models.keys import search_key
from models.users import User, UserLocation
from permissions.catalog import ORG_WIDE, Permission, parse_codes
from permissions.errors import forbidden
from permissions.escalation import Excess, escalation_message, excess_grants
from permissions.grants import Grants, GrantSources, GroupGrant, compute_grants, counted_as
from permissions.principal import Principal
from permissions.scoping import can_see_groups, can_see_user
from resolvers import audit
from resolvers.admins import lock_grants
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, Problems, fail
from resolvers.grant_set_input import GrantSetChanges, GrantSetData
from resolvers.inputs import UNSET, given, parse_uuid
from resolvers.location_ids import visible_locations
from resolvers.user_grants import load_access

NAME_MAX = 100
DESCRIPTION_MAX = 500


@dataclass
class CreateGroupData(GrantSetData):
    all_locations: bool = True  # a group holds its permissions everywhere unless given locations
    member_ids: list[str] = field(default_factory=list)


@dataclass
class UpdateGroupData(GrantSetChanges):
    """See `update_group` for what null means."""

    add_member_ids: list[str] | None = UNSET
    remove_member_ids: list[str] | None = UNSET


def codes_of(permissions: Iterable[Permission]) -> str:
    """Permissions as stored: comma-separated, deduplicated, in catalogue order."""
    chosen = set(permissions)
    return ",".join(p.value for p in Permission if p in chosen)


# --------------------------------------------------------------------------- reads


async def _reader(ctx: RequestContext) -> Principal:
    principal = await ctx.require_principal()
    if not can_see_groups(principal):
        raise forbidden("This needs the GROUPS_MANAGE or USERS_MANAGE permission.")
    return principal


async def list_groups(ctx: RequestContext) -> list[PermissionGroup]:
    """Every group of the viewer's organization, by name."""
    principal = await _reader(ctx)
    return await PermissionGroup.filter(organization_id=principal.organization.id).order_by("name_key", "id")


async def get_group(ctx: RequestContext, group_id: Any) -> PermissionGroup | None:
    """One group, or None when unknown, malformed or another organization's."""
    principal = await _reader(ctx)
    gid = parse_uuid(group_id)
    if gid is None:
        return None
    return await PermissionGroup.filter(id=gid, organization_id=principal.organization.id).first()


# --------------------------------------------------------------------------- no-escalation


@dataclass(frozen=True)
class GroupState:
    """A group as the policy sees it: what its members hold, and where."""

    permissions: frozenset[Permission]
    all_locations: bool
    location_ids: frozenset[str]

    def grant(self) -> GroupGrant:
        return GroupGrant(self.permissions, self.all_locations, self.location_ids)

    def own_grants(self) -> Grants:
        """What a member working everywhere would hold through this group alone."""
        return compute_grants(is_admin=False, all_locations=True, site_ids=(), groups=[self.grant()])


EMPTY_GROUP = GroupState(frozenset(), False, frozenset())


# A group being changed stands under this key among its members' groups (a new one has no id yet).
_THIS_GROUP = "this-group"


async def _member_sources(
    organization_id: Any, user_ids: Sequence[str], group_id: str | None
) -> dict[str, GrantSources]:
    """What each of `user_ids` holds its grants from, without the group `group_id`: one statement
    (the one grants loader), deactivated locations included, since a location reactivated later
    would hand out what is granted there."""
    found = await load_access(organization_id, user_ids)
    return {
        uid: replace(access.configured, groups={g: v for g, v in access.configured.groups.items() if g != group_id})
        for uid, access in found.items()
    }


def _grants_with(member: GrantSources, group: GroupState | None) -> Grants:
    """The member's grants, as a member of `group` (None: not a member of it)."""
    if group is None:
        return member.grants()
    return replace(member, groups={**member.groups, _THIS_GROUP: group.grant()}).grants()


def _blame(actor: Grants, item: Excess, before: GroupState, after: GroupState, *, creating: bool) -> str:
    """Which input field asked for `item`: a permission the actor lacks entirely, else the scope.
    `item` names the permission as it reaches for others (CLIENTS_READ for a group's "My Clients":
    permissions/escalation.py), so a permission the group already had counts under either name."""
    new_permission = creating or not counted_as(item.permission) & before.permissions
    if new_permission and not actor.has_anywhere(item.permission):
        return "permissions"
    if after.all_locations and (creating or not before.all_locations):
        return "allLocations"
    if after.location_ids != before.location_ids:
        return "locationIds"
    return "permissions"


def escalation_problems(
    actor: Grants,
    before: GroupState,
    after: GroupState,
    members: Sequence[GrantSources],
    new_members: Sequence[GrantSources],
    *,
    creating: bool,
    members_field: str,
) -> Problems:
    """FORBIDDEN problems, one per input field, for every grant the change adds that `actor` lacks.

    Checked: the group's own grant; every existing member (their grants with the group before and
    after); every new member (without the group, then with it as it will be).
    """
    by_field: dict[str, list[Excess]] = {}
    changed: list[Excess] = list(excess_grants(actor, before.own_grants(), after.own_grants()))
    for member in members:
        changed += excess_grants(actor, _grants_with(member, before), _grants_with(member, after))
    for item in changed:
        field = _blame(actor, item, before, after, creating=creating)
        if item not in by_field.setdefault(field, []):
            by_field[field].append(item)
    for member in new_members:
        for item in excess_grants(actor, _grants_with(member, None), _grants_with(member, after)):
            if item not in by_field.setdefault(members_field, []):
                by_field[members_field].append(item)
    problems = Problems()
    for field in ("permissions", "allLocations", "locationIds", members_field):
        if by_field.get(field):
            problems.add(ErrorCode.FORBIDDEN, escalation_message(by_field[field]), "input", field)
    return problems


# --------------------------------------------------------------------------- validation


def _check_name(name: Any, problems: Problems) -> str | None:
    text = (name or "").strip()
    if not text:
        problems.add(ErrorCode.REQUIRED, "A permission group needs a name.", "input", "name")
        return None
    if len(text) > NAME_MAX:
        problems.add(ErrorCode.INVALID, f"A group name is at most {NAME_MAX} characters.", "input", "name")
        return None
    return text


def _check_description(description: str | None, problems: Problems) -> str | None:
    text = (description or "").strip() or None
    if text is not None and len(text) > DESCRIPTION_MAX:
        problems.add(
            ErrorCode.INVALID, f"A description is at most {DESCRIPTION_MAX} characters.", "input", "description"
        )
    return text


def _check_scope(state: GroupState, problems: Problems, *, locations_given: bool) -> None:
    """A restricted group needs locations; an unrestricted one takes none; org-wide permissions need
    an unrestricted group (restricted, they would silently grant nothing)."""
    if state.all_locations and locations_given and state.location_ids:
        problems.add(ErrorCode.INVALID, "A group for all locations takes no locationIds.", "input", "locationIds")
    if not state.all_locations and not state.location_ids:
        problems.add(ErrorCode.REQUIRED, "A group restricted to locations needs at least one.", "input", "locationIds")
    org_wide = sorted(p.value for p in state.permissions if p in ORG_WIDE)
    if not state.all_locations and org_wide:
        problems.add(
            ErrorCode.INVALID,
            f"{', '.join(org_wide)}: organization-wide permissions need a group for all locations.",
            "input",
            "permissions",
        )


async def _check_locations(
    principal: Principal, location_ids: Sequence[Any], problems: Problems
) -> frozenset[str] | None:
    """The ids of the organization's locations the actor may see; any other is NOT_FOUND."""
    parsed, visible = await visible_locations(principal, location_ids)
    wanted = {str(p) for p in parsed if p is not None}
    found = set(visible)
    if None in parsed or found != wanted:
        problems.add(ErrorCode.NOT_FOUND, "No such location.", "input", "locationIds")
        return None
    return frozenset(found)


async def _check_users(
    principal: Principal, user_ids: Sequence[Any], problems: Problems, field: str
) -> list[str] | None:
    """Ids of users of the organization the actor may see, deduplicated; any other is NOT_FOUND."""
    parsed = [parse_uuid(v) for v in user_ids]
    wanted = sorted({str(p) for p in parsed if p is not None})
    if None in parsed:
        problems.add(ErrorCode.NOT_FOUND, "No such user.", "input", field)
        return None
    if not wanted:
        return []
    users = await User.filter(id__in=wanted, organization_id=principal.organization.id).values("id", "all_locations")
    sites: dict[str, list[str]] = {}
    for uid, lid in await UserLocation.filter(user_id__in=wanted).values_list("user_id", "location_id"):
        sites.setdefault(str(uid), []).append(str(lid))
    visible = {
        str(u["id"])
        for u in users
        if can_see_user(principal, str(u["id"]), bool(u["all_locations"]), sites.get(str(u["id"]), []))
    }
    if visible != set(wanted):
        problems.add(ErrorCode.NOT_FOUND, "No such user.", "input", field)
        return None
    return wanted


async def _manager(ctx: RequestContext) -> Principal:
    principal = await ctx.require_principal()
    if not principal.grants.has(Permission.GROUPS_MANAGE):
        raise forbidden("This needs the GROUPS_MANAGE permission.")
    return principal


async def _locked_group(principal: Principal, group_id: Any, *path: str) -> PermissionGroup:
    """The organization's group `group_id`, locked for the change; unknown or malformed is NOT_FOUND at `path`."""
    gid = parse_uuid(group_id)
    group = (
        await PermissionGroup.filter(id=gid, organization_id=principal.organization.id).select_for_update().first()
        if gid
        else None
    )
    if group is None:
        raise fail(ErrorCode.NOT_FOUND, "No such permission group.", *path)
    return group


async def _name_taken(organization_id: Any, name: str, exclude: Any = None) -> bool:
    query = PermissionGroup.filter(organization_id=organization_id, name_key=search_key(name))
    if exclude is not None:
        query = query.exclude(id=exclude)
    return await query.exists()


async def _save_unique(action: Any) -> Any:
    """A write that may hit the name's unique index, inside a savepoint (PostgreSQL aborts the whole
    transaction on a caught IntegrityError otherwise)."""
    try:
        async with in_transaction():
            return await action()
    except IntegrityError:
        raise fail(ErrorCode.DUPLICATE, "Another permission group already has this name.", "input", "name") from None


def _snapshot(group: PermissionGroup, location_ids: Iterable[str]) -> dict[str, Any]:
    return {
        "name": group.name,
        "description": group.description,
        "permissions": group.codes,
        "all_locations": group.all_locations,
        "location_ids": sorted(str(i) for i in location_ids),
    }


# --------------------------------------------------------------------------- writes


async def create_group(ctx: RequestContext, data: CreateGroupData) -> PermissionGroup:
    """A new group, refused whole when it (or its members) would hold what the actor does not."""
    principal = await _manager(ctx)
    problems = Problems()
    clean_name = _check_name(data.name, problems)
    clean_description = _check_description(data.description, problems)
    locs = await _check_locations(principal, data.location_ids, problems)
    members = await _check_users(principal, data.member_ids, problems, "memberIds")
    state = GroupState(frozenset(data.permissions), data.all_locations, locs or frozenset())
    if locs is not None:
        _check_scope(state, problems, locations_given=bool(data.location_ids))
    problems.raise_if_any()
    assert clean_name is not None and members is not None
    org_id = principal.organization.id
    async with in_transaction():
        await lock_grants(principal, Permission.GROUPS_MANAGE)
        if await _name_taken(org_id, clean_name):
            raise fail(ErrorCode.DUPLICATE, "Another permission group already has this name.", "input", "name")
        new_members = list((await _member_sources(org_id, members, None)).values())
        escalation_problems(
            principal.grants, EMPTY_GROUP, state, [], new_members, creating=True, members_field="memberIds"
        ).raise_if_any()
        group = await _save_unique(
            lambda: PermissionGroup.create(
                organization_id=org_id,
                name=clean_name,
                description=clean_description,
                permission_codes=codes_of(state.permissions),
                all_locations=state.all_locations,
            )
        )
        await _link_locations(group, state.location_ids)
        await _add_members(group, members)
        changes = audit.diff({}, _snapshot(group, state.location_ids))
        if members:
            changes["member_ids"] = [None, members]
        await audit.record(ctx, "group.create", about=group, changes=changes)
    return group


# A row linking a group to a location or a user.
LinkRow = TypeVar("LinkRow", GroupLocation, GroupMembership)


async def _link(model: type[LinkRow], group: PermissionGroup, column: str, ids: Iterable[str]) -> None:
    """One `model` row per id (in id order) linking `group` to it through `column`."""
    rows = [model(organization_id=group.organization_id, group_id=group.id, **{column: i}) for i in sorted(ids)]
    if rows:
        await model.bulk_create(rows)


async def _link_locations(group: PermissionGroup, location_ids: Iterable[str]) -> None:
    await _link(GroupLocation, group, "location_id", location_ids)


async def _add_members(group: PermissionGroup, user_ids: Iterable[str]) -> None:
    await _link(GroupMembership, group, "user_id", user_ids)


def _listed(value: Any) -> list[Any]:
    return list(value) if given(value) and value is not None else []


async def update_group(ctx: RequestContext, data: UpdateGroupData) -> PermissionGroup:
    """Change a group. UNSET leaves a field alone, and so does null except for `description` (null
    clears it) and `name` (required). `locationIds` replaces the locations.

    Removing grants (permissions, locations, members) is always allowed with GROUPS_MANAGE; adding
    them is checked for every member the group will have.
    """
    principal = await _manager(ctx)
    problems = Problems()
    name, description, permissions = data.name, data.description, data.permissions
    all_locations, location_ids = data.all_locations, data.location_ids
    clean_name = _check_name(name, problems) if given(name) and name is not None else None
    if name is None:
        problems.add(ErrorCode.REQUIRED, "A permission group needs a name.", "input", "name")
    clean_description = _check_description(description, problems) if given(description) else UNSET
    adds = await _check_users(principal, _listed(data.add_member_ids), problems, "addMemberIds")
    removes = await _check_users(principal, _listed(data.remove_member_ids), problems, "removeMemberIds")
    if adds and removes and set(adds) & set(removes):
        problems.add(ErrorCode.INVALID, "A user cannot be both added and removed.", "input", "removeMemberIds")
    locs = None
    if given(location_ids) and location_ids is not None:
        locs = await _check_locations(principal, location_ids, problems)
    async with in_transaction():
        await lock_grants(principal, Permission.GROUPS_MANAGE)
        group = await _locked_group(principal, data.id, "input", "id")
        old_locs = frozenset(
            str(i) for i in await GroupLocation.filter(group_id=group.id).values_list("location_id", flat=True)
        )
        before = GroupState(frozenset(parse_codes(group.permission_codes)), group.all_locations, old_locs)
        new_all = before.all_locations if all_locations in (UNSET, None) else bool(all_locations)
        if locs is not None:
            new_locs = locs
        elif new_all:
            new_locs = frozenset()
        else:
            new_locs = old_locs if not before.all_locations else frozenset()
        new_perms = before.permissions if permissions in (UNSET, None) else frozenset(permissions)
        after = GroupState(new_perms, new_all, new_locs)
        if locs is not None or all_locations not in (UNSET, None) or permissions not in (UNSET, None):
            _check_scope(after, problems, locations_given=bool(locs))
        problems.raise_if_any()
        assert adds is not None and removes is not None
        if clean_name is not None and await _name_taken(group.organization_id, clean_name, exclude=group.id):
            raise fail(ErrorCode.DUPLICATE, "Another permission group already has this name.", "input", "name")

        current = {str(u) for u in await GroupMembership.filter(group_id=group.id).values_list("user_id", flat=True)}
        added = sorted(set(adds) - current)
        removed = sorted(set(removes) & current)
        staying = sorted(current - set(removed))
        group_changed = after != before
        by_id = await _member_sources(
            principal.organization.id, [*staying, *added] if group_changed else added, str(group.id)
        )
        escalation_problems(
            principal.grants,
            before,
            after,
            [by_id[u] for u in staying if u in by_id] if group_changed else [],
            [by_id[u] for u in added if u in by_id],
            creating=False,
            members_field="addMemberIds",
        ).raise_if_any()

        old = _snapshot(group, old_locs)
        if clean_name is not None:
            group.name = clean_name
        if given(clean_description):
            group.description = clean_description
        group.permission_codes = codes_of(after.permissions)
        group.all_locations = after.all_locations
        group.version += 1
        await _save_unique(lambda: group.save())
        if new_locs != old_locs:
            await GroupLocation.filter(group_id=group.id, location_id__in=sorted(old_locs - new_locs)).delete()
            await _link_locations(group, new_locs - old_locs)
        if removed:
            await GroupMembership.filter(group_id=group.id, user_id__in=removed).delete()
        await _add_members(group, added)
        changes = audit.diff(old, _snapshot(group, new_locs))
        if added:
            changes["members_added"] = [None, added]
        if removed:
            changes["members_removed"] = [removed, None]
        await audit.record(ctx, "group.update", about=group, changes=changes)
    return group


async def delete_group(ctx: RequestContext, group_id: Any) -> str:
    """Delete a group: its members lose what it granted on their next request. Admins hold what they
    hold through `isAdmin`, never through a group, so no deletion can lock the organization out."""
    principal = await _manager(ctx)
    async with in_transaction():
        await lock_grants(principal, Permission.GROUPS_MANAGE)
        group = await _locked_group(principal, group_id, "id")
        locs = [str(i) for i in await GroupLocation.filter(group_id=group.id).values_list("location_id", flat=True)]
        members = sorted(
            str(u) for u in await GroupMembership.filter(group_id=group.id).values_list("user_id", flat=True)
        )
        changes = audit.diff(_snapshot(group, locs), {k: None for k in _snapshot(group, locs)})
        if members:
            changes["member_ids"] = [members, None]
        await GroupMembership.filter(group_id=group.id).delete()
        await GroupLocation.filter(group_id=group.id).delete()
        await PermissionGroup.filter(id=group.id).delete()
        await audit.record(ctx, "group.delete", about=group, changes=changes)
    return str(group.id)
