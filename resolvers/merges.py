"""Merging a client into another, and undoing it within 30 days (article 001; docs/architecture.md
"Client portal").

A merge needs CLIENTS_MERGE at both clients' locations. In one transaction, with both rows locked
(PostgreSQL `FOR UPDATE`, in id order; SQLite has one writer) and every write guarded by the version
it read: the source becomes MERGED pointing at the target; its portal links and pending invitations
move to the target (a link whose account already manages the target is dropped), unless the source is
an online registration nothing vouches for (`_vouched`: then only the links of accounts that proved the
target's email move, the rest and its invitations stay, its contact details are not filled in, and the
payload warns; such a registration is never a target), which opens the
target's record to those accounts and so needs CLIENT_PORTAL_MANAGE at the target's location, as
inviting them would; with `fill_empty_fields`, the target's empty fields take the source's values
(coverage only for an actor who may read it on the source and manage it on the target), which shows
them to the target's portal accounts and so needs the same grant when accounts not managing the
source manage the target. What it changed is kept in a `ClientMerge` row, so `unmerge` can put the
source back as it was, with the links and invitations it brought (and the links made since by
accepting those invitations: so, when it moved any, undoing it needs CLIENT_PORTAL_MANAGE at the
source's location, since the survivor's staff may have handed their links out meanwhile), while
edits made to the survivor since stay on the survivor. A link removed since stays removed: a moved one
that is gone, and a dropped one whose account no longer manages the survivor. Merges unwind last first: a source whose
survivor has been merged away since waits until that later merge is undone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.clients import Client
from models.enums import ClientSource, ClientStatus, InvitationStatus, ProxyRelationship
from models.merges import ClientMerge
from models.portal import ClientInvitation, ClientPortalLink
from permissions.catalog import Permission
from permissions.principal import Principal
from resolvers import audit
from resolvers.client_input import (
    ADDRESS_FIELDS,
    COVERAGE_FIELDS,
    PROFILE_FIELDS,
    REQUIRED_FIELDS,
    STAFF_ONLY_FIELDS,
)
from resolvers.context import RequestContext
from resolvers.credentials import LINK_TOKEN_PREFIX, new_token, token_hash
from resolvers.errors import ChangeWarning, ErrorCode, WarningCode, fail
from resolvers.inputs import UNSET, given, parse_uuid
from resolvers.invitations import status_q
from resolvers.registrations import reviewable_client

UNMERGE_WINDOW = timedelta(days=30)
# The profile fields that always hold a value: the required ones (names, language, timezone, the
# consents) but the lists, which may be empty ([]). A merge never finds them empty, so never fills them.
_ALWAYS_VALUED = REQUIRED_FIELDS - {"phones", "emergency_contacts"}
# The target's fields a merge may fill from the source when they are empty: the rest of the profile
# (in its order) and the address.
FILLABLE = (
    *(name for name in PROFILE_FIELDS if name not in _ALWAYS_VALUED),
    *(f"address_{f}" for f in ADDRESS_FIELDS),
)
_CLOSED = (ClientStatus.MERGED, ClientStatus.ARCHIVED)


@dataclass
class MergeData:
    source_id: Any
    target_id: Any
    fill_empty_fields: bool = True
    expected_version: int | None = UNSET


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _stored(value: Any) -> Any:
    """A value as the merge row's JSON keeps it (dates as ISO text), to compare with later."""
    return audit._plain(value)


async def _lock(*client_ids: Any) -> None:
    """Both clients' rows, in id order (two merges of the same pair cannot deadlock)."""
    ids = sorted({str(i) for i in client_ids if i is not None})
    # Whole rows: Tortoise drops FOR UPDATE from a values()/values_list() query (STACK-NOTES), and
    # that lock-nothing let two merges of a pair run at once and deadlock on their updates.
    await Client.filter(id__in=ids).order_by("id").select_for_update()


def _fillable(principal: Principal, source: Client, target: Client) -> tuple[str, ...]:
    """The fields a merge may fill: coverage only for an actor who may read it on the source and
    manage it on the target (else a merge would copy a health card the actor may not see onto a
    client where it may)."""
    coverage = principal.grants.has(
        Permission.CLIENTS_COVERAGE_MANAGE, str(target.location_id)
    ) and principal.grants.has(Permission.CLIENTS_COVERAGE_READ, str(source.location_id))
    return FILLABLE + (COVERAGE_FIELDS if coverage else ())


def _check_portal_access(
    principal: Principal, target: Client, links: list[Any], pending: list[Any], *, shows_filled: bool
) -> None:
    """A merge that changes what portal accounts see is the same grant as inviting them, so it needs
    CLIENT_PORTAL_MANAGE at the target's location: moving the source's portal links and pending
    invitations opens the target's record to those accounts (otherwise a clerk who may merge but not
    invite could hand portal access to any client), and filling the target's empty fields (but
    staff-only ones) shows the source's values to the accounts that manage the target (otherwise
    merging a client into another would hand its address, phones and contacts to the other's
    accounts). What a registration nobody vouches for brings is not moved at all (`_vouched`)."""
    if principal.grants.has(Permission.CLIENT_PORTAL_MANAGE, str(target.location_id)):
        return
    if links or pending:
        raise fail(
            ErrorCode.FORBIDDEN,
            "The client merged away has portal access (accounts or pending invitations), which the merge "
            "would move to the other client: that needs CLIENT_PORTAL_MANAGE at its location.",
            "input",
            "sourceId",
        )
    if shows_filled:
        raise fail(
            ErrorCode.FORBIDDEN,
            "Portal accounts manage the client kept, and would see the values filled in from the client merged "
            "away: that needs CLIENT_PORTAL_MANAGE at its location (or merge without filling empty fields).",
            "input",
            "fillEmptyFields",
        )


def _check_portal_return(principal: Principal, source: Client, merge: ClientMerge) -> None:
    """Undoing a merge gives the portal access it moved (links, and invitations whose links may have been
    handed out at the survivor since) back to the source: the same grant as inviting those accounts to
    it, so it needs CLIENT_PORTAL_MANAGE at the source's location, as the merge needed it at the target's."""
    moved_access = merge.moved_links or merge.dropped_links or merge.moved_invitations
    if moved_access and not principal.grants.has(Permission.CLIENT_PORTAL_MANAGE, str(source.location_id)):
        raise fail(
            ErrorCode.FORBIDDEN,
            "The merge moved portal access (accounts or invitations), which undoing it gives back to this "
            "client: that needs CLIENT_PORTAL_MANAGE at its location.",
            "input",
            "id",
        )


async def _others_manage(target: Client, source_links: list[ClientPortalLink]) -> bool:
    """Whether accounts that do not manage the source manage the target (they would see what a merge
    fills in from the source)."""
    return (
        await ClientPortalLink.filter(client_id=target.id)
        .exclude(account_id__in=[link.account_id for link in source_links])
        .exists()
    )


def _proven(link: ClientPortalLink, record: Client) -> bool:
    """Whether the link's account has proven it owns `record`'s email on file: it opened an invitation
    mailed there (`email_verified`, set only so: resolvers/invitations.py `_proves_mailbox`) and has
    the same address."""
    account = link.account
    return record.email_key is not None and account.email_verified and account.email_key == record.email_key


def _vouched(registration: Client, links: list[ClientPortalLink], record: Client) -> bool:
    """Whether anything proves that whoever made `registration` is `record`'s patient, so a merge of
    the two may carry all of its portal access and contact details. A client staff made needs no
    proof. An online registration needs a SELF link (`links` are the registration's) and every one of
    them `_proven` for `record`: the sign-up made one, and it is among them (staff may have invited
    others), so a sign-up in a patient's name cannot ride on the patient's own proven account.

    A sign-up proves nothing about who typed the name, date of birth and contact details, and article
    001 tells staff to merge registrations into the matching profile: without this, anyone knowing a
    patient's name and date of birth would be handed the record by the routine merge, through the
    sign-up's link, through invitations staff issued on the registration at the registrant's request,
    or through the email, mobile or address it typed becoming the ones the clinic reaches the patient
    at. From a registration nothing vouches for, a merge moves only links `_proven` for the target,
    keeps the rest (and its invitations) back, and fills no contact field."""
    if registration.source is not ClientSource.ONLINE_REGISTRATION:
        return True
    selves = [link for link in links if link.relationship is ProxyRelationship.SELF]
    return bool(selves) and all(_proven(link, record) for link in selves)


# Where the clinic reaches the patient, and the date of birth it checks callers and invitees by: a
# registration nothing vouches for does not fill them.
_CONTACT_FIELDS = frozenset(
    {"email", "mobile", "phones", "emergency_contacts", "date_of_birth", *(f"address_{f}" for f in ADDRESS_FIELDS)}
)
_KEPT_BACK = (
    "Nothing proves that whoever made this online registration is the client kept, so its portal access stays "
    "with it (but accounts that have opened an invitation mailed to the client's email on file) and its email, "
    "phones, address, emergency contacts and date of birth were not copied. Invite the client (inviteClientUser) "
    "at an address you have confirmed with them."
)


@dataclass
class Merged:
    """A merge's answer: the client kept, and what staff should know (portal access kept back)."""

    client: Client
    warnings: list[ChangeWarning]


async def _links(client: Client) -> list[ClientPortalLink]:
    """The client's portal links with their accounts, oldest first."""
    return await ClientPortalLink.filter(client_id=client.id).select_related("account").order_by("created_at", "id")


async def _manages(account_id: Any, client: Client) -> bool:
    """Whether the account already manages `client` (its link from the source is then dropped)."""
    return await ClientPortalLink.filter(client_id=client.id, account_id=account_id).exists()


async def merge_clients(ctx: RequestContext, data: MergeData) -> Merged:
    principal = await ctx.require_principal()
    source_id, target_id = parse_uuid(data.source_id), parse_uuid(data.target_id)
    async with in_transaction():
        await _lock(source_id, target_id)
        source = await reviewable_client(principal, data.source_id, "input", "sourceId")
        target = await reviewable_client(principal, data.target_id, "input", "targetId")
        if source.id == target.id:
            raise fail(ErrorCode.INVALID, "A client cannot be merged into itself.", "input", "targetId")
        if source.status in _CLOSED:
            raise fail(ErrorCode.INVALID, "This client is merged or archived already.", "input", "sourceId")
        if target.status in _CLOSED:
            raise fail(
                ErrorCode.INVALID, "A client cannot be merged into a merged or archived one.", "input", "targetId"
            )
        if (
            given(data.expected_version)
            and data.expected_version is not None
            and data.expected_version != target.version
        ):
            raise fail(
                ErrorCode.CONFLICT, "Someone else saved this client first: reload it.", "input", "expectedVersion"
            )
        now = ctx.now()
        if target.source is ClientSource.ONLINE_REGISTRATION and not _vouched(target, await _links(target), source):
            raise fail(
                ErrorCode.INVALID,
                "Nothing proves that whoever made this online registration is the other client: merge the "
                "registration into the existing profile, not the other way round.",
                "input",
                "targetId",
            )
        links = await _links(source)
        pending_here = await ClientInvitation.filter(
            status_q(InvitationStatus.PENDING, now), client_id=source.id
        ).values_list("id", "token_hash")
        vouched = _vouched(source, links, target)
        taken = links if vouched else [link for link in links if _proven(link, target)]
        tokens = dict(pending_here) if vouched else {}
        left = [link for link in links if link not in taken]
        pending = list(tokens)
        moving = [link for link in taken if not await _manages(link.account_id, target)]
        fillable = [
            name
            for name in _fillable(principal, source, target)
            if _empty(getattr(target, name)) and not _empty(getattr(source, name))
        ]
        filled = {}
        if data.fill_empty_fields:
            filled = {name: getattr(source, name) for name in fillable if vouched or name not in _CONTACT_FIELDS}
        withheld = data.fill_empty_fields and not vouched and any(name in _CONTACT_FIELDS for name in fillable)
        kept_back = bool(left or (pending_here and not vouched) or withheld)
        shows_filled = any(name not in STAFF_ONLY_FIELDS for name in filled) and await _others_manage(target, links)
        _check_portal_access(principal, target, moving, list(pending), shows_filled=shows_filled)
        keys = Client.keys_for(filled)
        kept = await Client.filter(id=target.id, version=target.version).update(
            **filled, **keys, version=F("version") + 1, updated_at=now
        )
        folded = await Client.filter(id=source.id, version=source.version).update(
            status=ClientStatus.MERGED,
            merged_into_id=target.id,
            merged_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        if not kept or not folded:
            raise fail(ErrorCode.CONFLICT, "One of the clients changed meanwhile: reload them.", "input", "sourceId")
        moved = [str(link.id) for link in moving]
        dropped = [
            {"id": str(link.id), "account": str(link.account_id), "relationship": link.relationship.value}
            for link in taken
            if str(link.id) not in moved
        ]
        await ClientPortalLink.filter(id__in=[d["id"] for d in dropped]).delete()
        await ClientPortalLink.filter(id__in=moved).update(client_id=target.id)
        await ClientInvitation.filter(id__in=list(pending)).update(client_id=target.id)
        await ClientMerge.create(
            organization_id=target.organization_id,
            source_id=source.id,
            target_id=target.id,
            source_status=source.status.value,
            filled={name: _stored(value) for name, value in filled.items()},
            moved_links=moved,
            dropped_links=dropped,
            moved_invitations=[str(i) for i in pending],
            invitation_tokens={str(i): hashed for i, hashed in tokens.items()},
            merged_at=now,
            merged_by_id=principal.user.id if principal.user else None,
        )
        await audit.record(
            ctx,
            "client.merge",
            about=target,
            changes={
                "source": str(source.id),
                **audit.diff({name: None for name in filled}, filled),
                "movedLinks": [str(link) for link in moved],
                "droppedLinks": [d["account"] for d in dropped],
                "movedInvitations": [str(i) for i in pending],
                **({"linksLeft": [str(link.account_id) for link in left]} if left else {}),
                **({"invitationsLeft": [str(i) for i, _ in pending_here]} if pending_here and not vouched else {}),
            },
        )
        warnings = [ChangeWarning(WarningCode.PORTAL_EMAIL_UNVERIFIED, _KEPT_BACK, ("input", "sourceId"))]
        return Merged(await Client.get(id=target.id), warnings if kept_back else [])


async def _return_links_made_from(merge: ClientMerge, source: Client, target: Client) -> list[str]:
    """An invitation the merge moved and someone accepted since made that account a link to the
    target: it was the source's invitation, so the link goes back with it (dropped if the account
    manages the source already). A link the account had before the merge is its own and stays.

    An invitation accepted through a link shown to staff at the survivor (`_shown_since`) proves
    nothing about who accepted it, and the survivor's staff may not invite at the source: the link
    made from it is dropped rather than given to the source (its staff invite again). Returns the
    accounts whose link was dropped so."""
    accepted = await ClientInvitation.filter(
        id__in=merge.moved_invitations, client_id=target.id, accepted_by_id__isnull=False
    )
    shown = {invitation.accepted_by_id for invitation in accepted if _shown_since(merge, invitation)}
    made = await ClientPortalLink.filter(
        client_id=target.id,
        account_id__in=[invitation.accepted_by_id for invitation in accepted],
        created_at__gte=merge.merged_at,
    ).exclude(id__in=merge.moved_links)
    for link in made:
        if link.account_id in shown or await _manages(link.account_id, source):
            await link.delete()
        else:
            await ClientPortalLink.filter(id=link.id).update(client_id=source.id)
    return sorted(str(link.account_id) for link in made if link.account_id in shown)


def _shown_since(merge: ClientMerge, invitation: ClientInvitation) -> bool:
    """Whether the invitation's link was shown to staff (`link_shown`) at the survivor: a link other
    than the one it had when the merge moved it (a merge recorded without its links counts every
    shown link). A link mailed to the invitee, or shown at the source before the merge, is not."""
    return invitation.link_shown and (merge.invitation_tokens or {}).get(str(invitation.id)) != invitation.token_hash


async def _void_shown_links(merge: ClientMerge, target: Client) -> list[str]:
    """A pending invitation the merge moved goes back to the source; a link of it shown to the
    survivor's staff (`_shown_since`), who may not invite at the source, dies on the way: the
    invitation stays pending, and the source's staff send or show a new link. Returns their ids."""
    pending = await ClientInvitation.filter(
        id__in=merge.moved_invitations, client_id=target.id, accepted_by_id__isnull=True, link_shown=True
    )
    voided = [invitation for invitation in pending if _shown_since(merge, invitation)]
    for invitation in voided:
        await ClientInvitation.filter(id=invitation.id).update(
            token_hash=token_hash(new_token(LINK_TOKEN_PREFIX)), link_shown=False
        )
    return [str(invitation.id) for invitation in voided]


async def unmerge_client(ctx: RequestContext, client_id: Any) -> Client:
    """Put a merged client back as it was before its last merge (within 30 days)."""
    principal = await ctx.require_principal()
    parsed = parse_uuid(client_id)
    async with in_transaction():
        survivors = await Client.filter(id=parsed).values_list("merged_into_id", flat=True) if parsed else []
        await _lock(parsed, *survivors)
        source = await reviewable_client(principal, client_id, "input", "id")
        merge = (
            await ClientMerge.filter(source_id=source.id, undone_at__isnull=True).order_by("-merged_at").first()
            if source.status is ClientStatus.MERGED
            else None
        )
        if merge is None:
            raise fail(ErrorCode.INVALID, "This client is not merged into another.", "input", "id")
        now = ctx.now()
        if now - merge.merged_at > UNMERGE_WINDOW:
            raise fail(ErrorCode.INVALID, "A merge can be undone within 30 days only.", "input", "id")
        target = await reviewable_client(principal, merge.target_id, "input", "id")
        if target.status is ClientStatus.MERGED:
            raise fail(
                ErrorCode.INVALID,
                "The client it was merged into has been merged into another since: undo that merge first.",
                "input",
                "id",
            )
        _check_portal_return(principal, source, merge)
        # Filled fields go back to empty unless edited since (an edit to the survivor stays).
        cleared: dict[str, Any] = {
            name: [] if isinstance(getattr(target, name), list) else None
            for name, value in merge.filled.items()
            if _stored(getattr(target, name)) == value
        }
        kept = await Client.filter(id=target.id, version=target.version).update(
            **cleared, **Client.keys_for(cleared), version=F("version") + 1, updated_at=now
        )
        restored = await Client.filter(id=source.id, version=source.version).update(
            status=ClientStatus(merge.source_status),
            merged_into_id=None,
            merged_at=None,
            version=F("version") + 1,
            updated_at=now,
        )
        if not kept or not restored:
            raise fail(ErrorCode.CONFLICT, "One of the clients changed meanwhile: reload them.", "input", "id")
        await ClientPortalLink.filter(id__in=merge.moved_links, client_id=target.id).update(client_id=source.id)
        for dropped in merge.dropped_links:
            # Only to an account that still manages the survivor: its link there is what the merge
            # kept in place of this one, and an account cut off from it since (removePortalLink) stays
            # cut off, as a moved link removed since stays removed. Back under its own id, so an
            # earlier merge's undo (in a chain) finds and moves it on.
            if not await _manages(dropped["account"], target):
                continue
            if not await ClientPortalLink.filter(client_id=source.id, account_id=dropped["account"]).exists():
                await ClientPortalLink.create(
                    id=dropped["id"],
                    organization_id=source.organization_id,
                    client_id=source.id,
                    account_id=dropped["account"],
                    relationship=dropped["relationship"],
                )
        dropped_accounts = await _return_links_made_from(merge, source, target)
        voided = await _void_shown_links(merge, target)
        await ClientInvitation.filter(id__in=merge.moved_invitations, client_id=target.id).update(client_id=source.id)
        merge.undone_at = now
        await merge.save(update_fields=["undone_at"])
        changes: dict[str, Any] = {"survivor": str(target.id), "clearedFields": sorted(cleared)}
        if voided:
            changes["linksVoided"] = voided  # invitations pending again: the source's staff send a new link
        if dropped_accounts:
            changes["accountsDropped"] = dropped_accounts
        await audit.record(ctx, "client.unmerge", about=source, changes=changes)
        return await Client.get(id=source.id)
