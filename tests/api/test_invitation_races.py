"""Races around the client portal on PostgreSQL, each in a database of its own (real, separate
transactions; audit 54): an invitation takes the client's row first (`invitations._managed_client`),
as accepting, archiving and merging do, and a move asks again for portal access once its write holds
that row; one process's sign-ups from one address take turns on the address's count."""

from __future__ import annotations

import asyncio
from pathlib import Path

from models.clients import Client
from models.enums import ClientStatus
from models.groups import GroupMembership
from models.portal import ClientInvitation
from permissions.catalog import Permission as P
from tests.api.test_merges import SIGN_UP, sign_up_input
from tests.api.test_portal import BULK, INVITE
from tests.factories import Factory, make_client, staff_with
from tests.support import app_client, needs_concurrent_writers, own_database, payload_codes, post_graphql

MOVE = "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { version } errors { field code } } }"
ARCHIVE = "mutation($id: ID!) { archiveClient(input: {id: $id}) { errors { code } } }"
ATTEMPTS = 10


async def _pending(client: Client) -> int:
    return await ClientInvitation.filter(client_id=client.id, revoked_at=None, accepted_at=None).count()


@needs_concurrent_writers
async def test_a_burst_of_sign_ups_from_one_address_gets_five(tmp_path: Path, settings) -> None:
    """One address makes at most five sign-ups in the throttle window, however many arrive at once."""
    async with own_database(tmp_path, "signupburst") as database:
        org = await Factory().organization("clinic-a")
        location = str(org.locations[0].id)
        async with app_client(settings, database, ip="203.0.113.61") as http:
            bodies = await asyncio.gather(
                *(
                    post_graphql(http, SIGN_UP, {"i": sign_up_input(location, email=f"person{n}@example.org")})
                    for n in range(12)
                )
            )
        made = [b for b in bodies if b["data"]["portalSignUp"]["token"]]
        assert len(made) <= 5, [payload_codes(b["data"]["portalSignUp"]) for b in bodies]
        assert await Client.filter(status=ClientStatus.PENDING_REVIEW).count() <= 5


@needs_concurrent_writers
async def test_an_invitation_racing_a_move_does_not_carry_portal_access_where_the_actor_may_not_invite(
    tmp_path: Path, settings
) -> None:
    """Invite-then-move and move-then-invite are both refused one after the other; at once, the client
    never ends at L2 (no CLIENT_PORTAL_MANAGE there) with the actor's pending invitation."""
    async with own_database(tmp_path, "invitemove") as database:
        factory = Factory()
        org = await factory.organization("race")
        l1, l2 = org.locations
        desk = await staff_with(factory, org, [P.CLIENTS_READ, P.CLIENTS_MANAGE], [l1, l2])
        portal = await factory.group(org.organization, [P.CLIENT_PORTAL_MANAGE], locations=[l1])
        await GroupMembership.create(organization_id=org.organization.id, group_id=portal.id, user_id=desk.user.id)
        carried = 0
        async with app_client(settings, database, ip="203.0.113.63") as http:
            for attempt in range(ATTEMPTS):
                client = await make_client(org, l1, "Ines", f"Roy{attempt}")
                invite = {"i": {"clientId": str(client.id), "email": f"ines{attempt}@example.org", "send": False}}
                await asyncio.gather(
                    post_graphql(http, INVITE, invite, desk.token),
                    post_graphql(http, MOVE, {"i": {"id": str(client.id), "locationId": str(l2.id)}}, desk.token),
                )
                if (await Client.get(id=client.id)).location_id == l2.id and await _pending(client):
                    carried += 1
        assert carried == 0, f"{carried} of {ATTEMPTS} clients moved to L2 carrying the actor's pending invitation"


@needs_concurrent_writers
async def test_two_invitations_of_one_email_at_once_leave_one_pending(tmp_path: Path, settings) -> None:
    """A client has at most one pending invitation per email ("resend it instead")."""
    async with own_database(tmp_path, "invitetwice") as database:
        factory = Factory()
        org = await factory.organization("race")
        desk = await staff_with(factory, org, [P.CLIENTS_READ, P.CLIENT_PORTAL_MANAGE], org.locations)
        doubled = 0
        async with app_client(settings, database, ip="203.0.113.62") as http:
            for attempt in range(ATTEMPTS):
                email = f"ines{attempt}@example.org"
                client = await make_client(org, org.locations[0], "Ines", f"Roy{attempt}", email=email)
                await asyncio.gather(
                    post_graphql(http, BULK, {"ids": [str(client.id)]}, desk.token),
                    post_graphql(http, BULK, {"ids": [str(client.id)]}, desk.token),
                    post_graphql(http, INVITE, {"i": {"clientId": str(client.id), "email": email}}, desk.token),
                )
                doubled += int(await _pending(client) > 1)
        assert doubled == 0, f"{doubled} of {ATTEMPTS} clients got more than one pending invitation for one email"


@needs_concurrent_writers
async def test_an_invitation_racing_an_archive_leaves_no_pending_invitation_on_the_archived_client(
    tmp_path: Path, settings
) -> None:
    """An archived client has no pending invitation (archiving revokes them; inviting one is INVALID)."""
    async with own_database(tmp_path, "invitearchive") as database:
        factory = Factory()
        org = await factory.organization("race")
        desk = await staff_with(factory, org, [P.CLIENTS_READ, P.CLIENTS_MANAGE, P.CLIENT_PORTAL_MANAGE], org.locations)
        left = 0
        async with app_client(settings, database, ip="203.0.113.66") as http:
            for attempt in range(ATTEMPTS):
                client = await make_client(org, org.locations[0], "Ines", f"Roy{attempt}")
                invite = {"i": {"clientId": str(client.id), "email": f"ines{attempt}@example.org", "send": False}}
                await asyncio.gather(
                    post_graphql(http, INVITE, invite, desk.token),
                    post_graphql(http, ARCHIVE, {"id": str(client.id)}, desk.token),
                )
                archived = (await Client.get(id=client.id)).status is ClientStatus.ARCHIVED
                left += int(archived and await _pending(client) > 0)
        assert left == 0, f"{left} of {ATTEMPTS} archived clients kept a pending invitation"
