"""Providers (clinicians): read, edit, deactivate now or on a date, reassign clients, reactivate (article 003).

Who may see a provider is `permissions.scoping.provider_q` / `can_see_provider` (PROVIDERS_READ at any
of its user's sites); who may change one needs the permission at every one of those sites, like
changing a user. A deactivation is all or nothing: the provider and its user become inactive, their
sessions end, and their clients move to the chosen provider in one transaction, or nothing happens.
A deactivation dated in the future is stored as DEACTIVATION_SCHEDULED: login is refused from that
moment by `resolvers.sessions.denial_reason`, and the job in app/jobs_providers.py applies the rest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from tortoise.expressions import F, Q, Subquery
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.clients import Client
from models.enums import AccessStatus, BillingRole, ClientStatus, ProviderStatus
from models.keys import search_key
from models.organization import Location
from models.providers import Provider
from models.users import User, UserLocation
from permissions.catalog import Permission
from permissions.grants import Grants
from permissions.principal import Principal
from permissions.scoping import can_change_user, can_see_provider, provider_q, user_q
from resolvers import audit
from resolvers.admins import ensure_admin_remains, lock_grants
from resolvers.billing import (
    billing_number_problems,
    normalize_billing_number,
    provincial_number_problem,
    unique_billing_write,
)
from resolvers.context import RequestContext
from resolvers.errors import ErrorCode, Problems, fail
from resolvers.inputs import UNSET, given, parse_uuid, search_text
from resolvers.seats import check_seats
from resolvers.sessions import end_credentials
from resolvers.user_grants import configured_sources
from resolvers.user_rules import at_location_q, check_restore

AUDITED_FIELDS = (
    "display_name",
    "specialty",
    "billing_role",
    "provincial_billing_number",
    "group_billing_number",
    "profile_image_url",
    "messaging_enabled",
    "default_rtm_status",
    "status",
    "deactivate_at",
    "deactivated_at",
)
BILLING_FIELDS = {"provincial_billing_number": "provincialBillingNumber", "group_billing_number": "groupBillingNumber"}
DEFAULT_PROVINCE = "ON"
NOT_FOUND_MESSAGE = "No such provider."


def effective_status(provider: Provider, now: datetime) -> ProviderStatus:
    """Computed at read time: a scheduled date that has passed shows (and denies) as INACTIVE before the job runs."""
    if (
        provider.status is ProviderStatus.DEACTIVATION_SCHEDULED
        and provider.deactivate_at is not None
        and provider.deactivate_at <= now
    ):
        return ProviderStatus.INACTIVE
    return provider.status


@dataclass(frozen=True)
class Sites:
    """Where a provider's user works: everywhere, or these location ids."""

    all_locations: bool
    ids: frozenset[str]

    def held_everywhere(self, grants: Grants, permission: Permission) -> bool:
        """Changing a provider is changing its user: the same rule (every one of its sites)."""
        return can_change_user(grants, permission, self.all_locations, self.ids)

    def held_anywhere(self, grants: Grants, permission: Permission) -> bool:
        if self.all_locations:
            return grants.has_anywhere(permission)
        scope = grants.locations(permission)
        return scope is None or bool(scope & self.ids)

    def covers(self, location_ids: Iterable[str]) -> bool:
        return self.all_locations or all(str(loc) in self.ids for loc in location_ids)

    def billing_readable(self, grants: Grants) -> bool:
        """The guard of a provider's billing numbers, wherever they show (`Provider.billing`, the
        audit trail's values): BILLING_READ at one of its sites."""
        return self.held_anywhere(grants, Permission.BILLING_READ)


async def user_sites(user: User) -> Sites:
    ids = await UserLocation.filter(user_id=user.id).values_list("location_id", flat=True)
    return Sites(user.all_locations, frozenset(str(i) for i in ids))


async def billing_province(user: User, sites: Sites) -> str:
    """The province billing numbers are checked for: the provider's first site's (by name), else ON."""
    query = Location.filter(organization_id=user.organization_id)
    if not sites.all_locations:
        query = query.filter(id__in=sorted(sites.ids))
    first = await query.order_by("name_key").first()
    return (first.address_province if first and first.address_province else DEFAULT_PROVINCE).upper()


# --------------------------------------------------------------------------- reading


async def get_provider(ctx: RequestContext, provider_id: str) -> Provider | None:
    """One provider the viewer may see, else None (out of scope looks exactly like missing)."""
    principal = await ctx.require_principal()
    pid = parse_uuid(provider_id)
    if pid is None:
        return None
    return await Provider.filter(provider_q(principal), id=pid).first()


@dataclass
class ProviderFilterData:
    search: str | None = None
    status: ProviderStatus | None = None
    location_id: str | None = None
    billing_role: BillingRole | None = None


def _status_q(status: ProviderStatus, now: datetime) -> Q:
    scheduled = Q(status=ProviderStatus.DEACTIVATION_SCHEDULED)
    if status is ProviderStatus.INACTIVE:
        return Q(Q(status=ProviderStatus.INACTIVE), scheduled & Q(deactivate_at__lte=now), join_type=Q.OR)
    if status is ProviderStatus.DEACTIVATION_SCHEDULED:
        return scheduled & Q(deactivate_at__gt=now)
    return Q(status=status)


async def providers_query(ctx: RequestContext, filter: ProviderFilterData | None) -> QuerySet[Provider]:
    """The providers the viewer may see, filtered: the schema pages it (keyset) and counts it."""
    principal = await ctx.require_principal()
    query = Provider.filter(provider_q(principal))
    f = filter or ProviderFilterData()
    if f.search and f.search.strip():
        prefix = search_key(search_text(f.search))
        # The user's last name only among users the viewer may see (`Provider.user` is guarded), or
        # the search would tell a hidden user's name (docs/architecture.md "Scoping pairs").
        by_last_name = Subquery(User.filter(user_q(principal), last_name_key__startswith=prefix).values("id"))
        query = query.filter(Q(Q(display_name_key__startswith=prefix), Q(user_id__in=by_last_name), join_type=Q.OR))
    if f.status is not None:
        query = query.filter(_status_q(f.status, ctx.now()))
    if f.billing_role is not None:
        query = query.filter(billing_role=f.billing_role)
    if f.location_id is not None:
        query = query.filter(at_location_q(principal, f.location_id, via="user"))
    return query


# --------------------------------------------------------------------------- finding a target


@dataclass
class Target:
    provider: Provider
    user: User
    sites: Sites


async def _target(principal: Principal, provider_id: str, permission: Permission, *field: str) -> Target:
    """The provider `provider_id`, locked for the transaction, which `permission` lets the actor change.

    Out of the actor's reach (neither visible nor within `permission`'s locations) it is NOT_FOUND,
    like a random id; visible but not changeable at every one of its sites it is FORBIDDEN.
    """
    field = field or ("input", "id")
    pid = parse_uuid(provider_id)
    provider = None
    if pid is not None:
        provider = await Provider.filter(id=pid, organization_id=principal.organization.id).select_for_update().first()
    if provider is None:
        raise fail(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, *field)
    user = await User.get(id=provider.user_id)
    sites = await user_sites(user)
    visible = can_see_provider(principal, sites.all_locations, sites.ids) or sites.held_anywhere(
        principal.grants, permission
    )
    if not visible:
        raise fail(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, *field)
    if user.is_admin and not (principal.user is not None and principal.user.is_admin):
        # Changing a provider is changing its user (deactivation makes the user inactive): an
        # administrator's only by an administrator (docs/architecture.md "Principals and grants").
        raise fail(ErrorCode.FORBIDDEN, "Only an administrator may change an administrator's provider profile.", *field)
    if not sites.held_everywhere(principal.grants, permission):
        raise fail(
            ErrorCode.FORBIDDEN,
            f"Changing this provider needs {permission.value} at every one of its sites.",
            *field,
        )
    return Target(provider, user, sites)


async def _bump(provider: Provider, expected_version: int | None, **values: Any) -> None:
    """Write `values` and the next version, provided nobody saved since we read (else CONFLICT)."""
    version = provider.version if expected_version is None else expected_version
    count = await Provider.filter(id=provider.id, version=version).update(
        **values, **Provider.keys_for(values), version=F("version") + 1
    )
    if not count:
        raise fail(
            ErrorCode.CONFLICT,
            "Someone else saved this provider first: reload and try again.",
            "input",
            "expectedVersion",
        )


async def _save(
    ctx: RequestContext, provider: Provider, action: str, expected_version: int | None, **values: Any
) -> Provider:
    """Write `values` (optimistically, see `_bump`) and record `action` with what changed: the one
    path every provider change takes, so none can skip its version check or its audit event."""
    before = audit.snapshot(provider, AUDITED_FIELDS)
    if values:
        await _bump(provider, expected_version, **values)
    updated = await Provider.get(id=provider.id)
    await audit.record(
        ctx,
        action,
        about=provider,
        changes=audit.diff(before, audit.snapshot(updated, AUDITED_FIELDS)),
    )
    return updated


# --------------------------------------------------------------------------- updateProvider


def _https_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme == "https" and bool(parsed.hostname) and not any(c.isspace() for c in value)


@dataclass
class ProviderSettingsData:
    messaging_enabled: bool | None = UNSET
    default_rtm_status: bool | None = UNSET


@dataclass
class UpdateProviderData:
    """Every field but `id` and `expected_version` may be UNSET (left out)."""

    id: str
    expected_version: int | None = None
    display_name: str | None = UNSET
    specialty: str | None = UNSET
    billing_role: BillingRole | None = UNSET
    provincial_billing_number: str | None = UNSET
    group_billing_number: str | None = UNSET
    profile_image_url: str | None = UNSET
    settings: ProviderSettingsData | None = UNSET


# The fields an update may change (every input field but the id and the version it expects).
UPDATE_FIELDS = tuple(
    name for name in UpdateProviderData.__dataclass_fields__ if name not in ("id", "expected_version")
)


def update_permission(data: UpdateProviderData) -> Permission:
    """What changing the provider needs at every one of its sites, by the fields given: each field
    its own. Billing numbers alone need only BILLING_MANAGE (a billing clerk holds no
    PROVIDERS_MANAGE); any profile field needs PROVIDERS_MANAGE, and billing numbers given with it
    still need BILLING_MANAGE as well (checked where they are)."""
    touched = {name for name in UPDATE_FIELDS if given(getattr(data, name))}
    if touched and touched <= BILLING_FIELDS.keys():
        return Permission.BILLING_MANAGE
    return Permission.PROVIDERS_MANAGE


async def update_provider(ctx: RequestContext, data: UpdateProviderData) -> Provider:
    """Edit a provider's profile: only the fields given change (null display names and settings
    change nothing). Each field needs its own permission (`update_permission`)."""
    principal = await ctx.require_principal()
    expected_version = data.expected_version
    async with in_transaction():
        target = await _target(principal, data.id, update_permission(data))
        provider = target.provider
        if expected_version is not None and expected_version != provider.version:
            raise fail(
                ErrorCode.CONFLICT,
                "Someone else saved this provider first: reload and try again.",
                "input",
                "expectedVersion",
            )
        problems = Problems()
        values: dict[str, Any] = {}
        if given(data.display_name):
            name = (data.display_name or "").strip()
            if not name:
                problems.add(ErrorCode.REQUIRED, "A provider needs a display name.", "input", "displayName")
            elif len(name) > 200:
                problems.add(ErrorCode.INVALID, "A display name is at most 200 characters.", "input", "displayName")
            else:
                values.update(display_name=name)
        if given(data.specialty):
            specialty = (data.specialty or "").strip() or None
            if specialty and len(specialty) > 100:
                problems.add(ErrorCode.INVALID, "A specialty is at most 100 characters.", "input", "specialty")
            else:
                values["specialty"] = specialty
        if given(data.billing_role) and data.billing_role is not None:
            values["billing_role"] = BillingRole(data.billing_role)
        if given(data.profile_image_url):
            url = (data.profile_image_url or "").strip() or None
            if url is not None and (len(url) > 500 or not _https_url(url)):
                problems.add(
                    ErrorCode.INVALID, "A profile image URL must be an https:// address.", "input", "profileImageUrl"
                )
            else:
                values["profile_image_url"] = url
        settings = data.settings if given(data.settings) and data.settings is not None else ProviderSettingsData()
        for name in ("messaging_enabled", "default_rtm_status"):
            if given(value := getattr(settings, name)) and value is not None:
                values[name] = bool(value)
        billing = {
            name: normalize_billing_number(getattr(data, name)) for name in BILLING_FIELDS if given(getattr(data, name))
        }
        if billing:
            if not target.sites.held_everywhere(principal.grants, Permission.BILLING_MANAGE):
                for name in billing:
                    problems.add(
                        ErrorCode.FORBIDDEN,
                        "Billing numbers need BILLING_MANAGE at every one of the provider's sites.",
                        "input",
                        BILLING_FIELDS[name],
                    )
            else:
                province = await billing_province(target.user, target.sites)
                format_problems = billing_number_problems(
                    province, billing.get("provincial_billing_number"), billing.get("group_billing_number")
                )
                problems.extend(format_problems)
                if not format_problems and (
                    taken := await provincial_number_problem(
                        provider.organization_id,
                        billing.get("provincial_billing_number"),
                        provider.id,
                        "input",
                        "provincialBillingNumber",
                    )
                ):
                    problems.extend([taken])
                values.update(billing)
        problems.raise_if_any()
        return await unique_billing_write(
            lambda: _save(ctx, provider, "provider.update", expected_version, **values),
            "input",
            "provincialBillingNumber",
        )


# --------------------------------------------------------------------------- deactivation


async def _client_locations(provider: Provider) -> set[str]:
    rows = (
        await Client.filter(primary_provider_id=provider.id, status__not=ClientStatus.MERGED)
        .distinct()
        .values_list("location_id", flat=True)
    )
    return {str(r) for r in rows}


async def _reassign_target(
    principal: Principal, provider: Provider, target_id: str, client_locations: set[str]
) -> Provider:
    """The provider the clients move to: reachable by the actor, active, practising at each client's
    location; and the actor needs CLIENTS_MANAGE at every one of those locations."""
    field = ("input", "reassignClientsToProviderId")
    tid = parse_uuid(target_id)
    target = await Provider.filter(provider_q(principal), id=tid).first() if tid is not None else None
    if target is None:
        raise fail(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, *field)
    if target.id == provider.id:
        raise fail(ErrorCode.INVALID, "Choose another provider to take over the clients.", *field)
    target_user = await User.get(id=target.user_id)
    if target.status is not ProviderStatus.ACTIVE or not target_user.is_active:
        raise fail(ErrorCode.INVALID, "The clients can only move to an active provider.", *field)
    if not (await user_sites(target_user)).covers(client_locations):
        raise fail(ErrorCode.INVALID, "That provider does not practise at every location of these clients.", *field)
    if not principal.grants.has_everywhere(Permission.CLIENTS_MANAGE, client_locations):
        raise fail(ErrorCode.FORBIDDEN, "Moving these clients needs CLIENTS_MANAGE at each of their locations.", *field)
    return target


async def apply_deactivation(provider: Provider, when: datetime, now: datetime, reassign_to: Provider | None) -> int:
    """Make the provider and its user inactive, end their sessions, move their clients: in the
    caller's transaction. Returns how many clients moved."""
    moved = 0
    if reassign_to is not None:
        moved = await Client.filter(primary_provider_id=provider.id, status__not=ClientStatus.MERGED).update(
            primary_provider_id=reassign_to.id, version=F("version") + 1, updated_at=now
        )
    await Provider.filter(id=provider.id).update(
        status=ProviderStatus.INACTIVE,
        deactivated_at=when,
        deactivate_at=None,
        reassign_to_id=None,
        version=F("version") + 1,
        updated_at=now,
    )
    await User.filter(id=provider.user_id).update(is_active=False, version=F("version") + 1, updated_at=now)
    await end_credentials(str(provider.user_id), "PROVIDER_DEACTIVATED", now)
    return moved


def _postpones(provider: Provider, effective_at: datetime | None) -> bool:
    """Whether a new deactivation date is later than the one already scheduled."""
    return (
        provider.status is ProviderStatus.DEACTIVATION_SCHEDULED
        and provider.deactivate_at is not None
        and effective_at is not None
        and effective_at > provider.deactivate_at
    )


@dataclass
class DeactivationResult:
    provider: Provider
    reassigned_client_count: int | None


async def _deactivation_target(principal: Principal, provider_id: str) -> Target:
    """The provider a (de/re)activation changes: the organization's grant lock first (docs/architecture.md
    "No escalation"), then the provider locked, within PROVIDERS_DEACTIVATE's reach."""
    await lock_grants(principal)
    return await _target(principal, provider_id, Permission.PROVIDERS_DEACTIVATE)


@dataclass
class DeactivateProviderData:
    """The `DeactivateProviderInput` as the resolver reads it."""

    id: str
    effective_at: datetime | None = None
    reassign_clients_to_provider_id: str | None = None


async def deactivate_provider(ctx: RequestContext, data: DeactivateProviderData) -> DeactivationResult:
    """Deactivate now (no date or a past one) or schedule it (a future date)."""
    provider_id, effective_at, reassign_to_id = data.id, data.effective_at, data.reassign_clients_to_provider_id
    principal = await ctx.require_principal()
    now = ctx.now()
    async with in_transaction():
        target = await _deactivation_target(principal, provider_id)
        provider = target.provider
        if effective_status(provider, now) is ProviderStatus.INACTIVE:
            raise fail(ErrorCode.INVALID, "This provider is already inactive.", "input", "id")
        if _postpones(provider, effective_at):
            # Moving a scheduled date later keeps the user's grants longer: restoring is granting.
            sources = await configured_sources(principal.organization.id, target.user.id)
            check_restore(principal, target.user.id, sources, "input", "effectiveAt")
        locations = await _client_locations(provider)
        reassign_to = None
        if reassign_to_id is not None:
            reassign_to = await _reassign_target(principal, provider, reassign_to_id, locations)
        before = audit.snapshot(provider, AUDITED_FIELDS)
        if effective_at is not None and effective_at > now:
            await _bump(
                provider,
                None,
                status=ProviderStatus.DEACTIVATION_SCHEDULED,
                deactivate_at=effective_at,
                reassign_to_id=reassign_to.id if reassign_to else None,
                updated_at=now,
            )
            moved = None
            action = "provider.deactivation_schedule"
        else:
            moved = await apply_deactivation(provider, now, now, reassign_to)
            action = "provider.deactivate"
        if target.user.is_admin:
            # Scheduled or now, the admin stops acting: another without an end date must remain.
            await ensure_admin_remains(principal.organization.id, "input", "id")
        updated = await Provider.get(id=provider.id)
        changes: dict[str, Any] = audit.diff(before, audit.snapshot(updated, AUDITED_FIELDS))
        if reassign_to is not None:
            changes["reassign_to"] = str(reassign_to.id)
        if moved is not None:
            changes["reassigned_client_count"] = moved
        await audit.record(ctx, action, about=provider, changes=changes)
    return DeactivationResult(updated, moved)


async def cancel_deactivation(ctx: RequestContext, provider_id: str) -> Provider:
    """Call off a scheduled deactivation (also one whose date passed before the job ran)."""
    principal = await ctx.require_principal()
    async with in_transaction():
        target = await _deactivation_target(principal, provider_id)
        provider = target.provider
        if provider.status is not ProviderStatus.DEACTIVATION_SCHEDULED:
            raise fail(ErrorCode.INVALID, "No deactivation is scheduled for this provider.", "input", "id")
        # The user would have lost its grants on the date: calling it off restores them.
        sources = await configured_sources(principal.organization.id, target.user.id)
        check_restore(principal, target.user.id, sources, "input", "id")
        if provider.deactivate_at is not None and provider.deactivate_at <= ctx.now():
            # The date passed before the job ran: the user's sessions and links died with it.
            await end_credentials(str(target.user.id), "PROVIDER_DEACTIVATED", ctx.now())
        return await _save(
            ctx,
            provider,
            "provider.deactivation_cancel",
            None,
            status=ProviderStatus.ACTIVE,
            deactivate_at=None,
            reassign_to_id=None,
        )


async def reactivate_provider(ctx: RequestContext, provider_id: str) -> Provider:
    """Provider ACTIVE and its user active again; login access stays as it was."""
    principal = await ctx.require_principal()
    now = ctx.now()
    async with in_transaction():
        target = await _deactivation_target(principal, provider_id)
        provider = target.provider
        if effective_status(provider, now) is not ProviderStatus.INACTIVE:
            raise fail(ErrorCode.INVALID, "This provider is not inactive.", "input", "id")
        sources = await configured_sources(principal.organization.id, target.user.id)
        check_restore(principal, target.user.id, sources, "input", "id")
        # Seats are billed per user who can log in (resolvers/seats.py): one with access takes its seat back,
        # unless it holds it still (its user active: a deactivation date passed before the job ran).
        takes_seat = not target.user.is_active and target.user.access_status is not AccessStatus.NO_ACCESS
        await check_seats(principal, int(takes_seat), "input", "id")
        # Sessions and links die with the deactivation (the job's or a date that passed before it ran),
        # not revived by this.
        await end_credentials(str(target.user.id), "PROVIDER_DEACTIVATED", now)
        await User.filter(id=provider.user_id).update(is_active=True, version=F("version") + 1, updated_at=now)
        return await _save(
            ctx,
            provider,
            "provider.reactivate",
            None,
            status=ProviderStatus.ACTIVE,
            deactivate_at=None,
            deactivated_at=None,
            reassign_to_id=None,
            updated_at=now,
        )


# --------------------------------------------------------------------------- the scheduled job


async def apply_due_deactivations(ctx: RequestContext, *, limit: int = 100) -> int:
    """Apply every scheduled deactivation whose date has passed: one transaction, rows claimed with
    FOR UPDATE SKIP LOCKED on PostgreSQL so a second worker skips what the first is applying.

    The clients move to the chosen provider only if it is still active and practises at each of
    their locations; otherwise they stay (the event says so) and staff reassign them by hand.
    """
    now = ctx.now()
    done = 0
    async with in_transaction():
        due = (
            await Provider.filter(status=ProviderStatus.DEACTIVATION_SCHEDULED, deactivate_at__lte=now)
            .order_by("deactivate_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        for provider in due:
            reassign_to = None
            kept_reason = None
            if provider.reassign_to_id is not None:
                candidate = await Provider.filter(id=provider.reassign_to_id).first()
                candidate_user = await User.get(id=candidate.user_id) if candidate else None
                if (
                    candidate is None
                    or candidate_user is None
                    or effective_status(candidate, now) is not ProviderStatus.ACTIVE
                    or not candidate_user.is_active
                ):
                    kept_reason = "reassignment target no longer active"
                elif not (await user_sites(candidate_user)).covers(await _client_locations(provider)):
                    kept_reason = "reassignment target does not practise at every client location"
                else:
                    reassign_to = candidate
            when = provider.deactivate_at or now
            moved = await apply_deactivation(provider, when, now, reassign_to)
            changes: dict[str, Any] = {"status": [provider.status.value, ProviderStatus.INACTIVE.value]}
            changes["reassigned_client_count"] = moved
            if reassign_to is not None:
                changes["reassign_to"] = str(reassign_to.id)
            if kept_reason:
                changes["clients_kept"] = kept_reason
            await audit.record_system(
                ctx, "provider.deactivate", about=provider, by="job:provider_deactivations", changes=changes
            )
            done += 1
    return done
