"""Partner integrations, API tokens and the staff side's grant rules under sequences and races: the
second round of the partner audit (docs/architecture.md "Principals and grants", "No escalation").

Races run on PostgreSQL in databases of their own (`own_database`): another transaction (what another
worker's admin request does) holds the organization's grant lock and commits a demotion while the
request under test waits for that lock, so the request passed its permission class before the
demotion and takes the lock after it. `lock_grants` promises that "one demoted meanwhile is refused".
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings
from models.audit import AuditEvent
from models.groups import GroupMembership, PermissionGroup
from models.integrations import ApiToken, Integration
from models.organization import Location
from models.outbox import OutboxMessage
from models.users import User
from permissions.catalog import Permission as P
from tests.factories import PASSWORD, Factory, Org
from tests.support import GQL, TestDatabase, app_client, needs_concurrent_writers, own_database, post_graphql

NEW_TOKEN = """mutation($id: ID!) { createApiToken(input: {integrationId: $id, name: "late"}) {
  secret errors { field code } } }"""
WIDEN = """mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { errors { field code } } }"""
DELETE_GROUP = """mutation($id: ID!) { deletePermissionGroup(id: $id) { errors { field code } } }"""
REACTIVATE = """mutation($id: ID!) { setLocationActive(input: {id: $id, active: true}) { errors { field code } } }"""


@asynccontextmanager
async def _grant_lock_held(database: TestDatabase, organization_id: Any) -> AsyncIterator[Any]:
    """A transaction of its own holding the organization's row lock (the grant lock) until the block
    ends, when it commits whatever the block wrote through the yielded connection."""
    import asyncpg

    conn = await asyncpg.connect(database.url.replace("postgres://", "postgresql://", 1))
    try:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("SELECT id FROM organizations WHERE id = $1 FOR UPDATE", uuid.UUID(str(organization_id)))
        try:
            yield conn
        except BaseException:
            await transaction.rollback()
            raise
        await transaction.commit()
    finally:
        await conn.close()


async def _until_a_request_waits_for_a_lock(conn: Any) -> None:
    """Return once another backend of this database waits for a lock (the request reached `lock_grants`)."""
    for _ in range(200):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the request never waited for the grant lock")


def _codes(body: dict[str, Any], name: str) -> list[str]:
    if body.get("errors"):
        return [e["extensions"]["code"] for e in body["errors"]]
    return [e["code"] for e in body["data"][name]["errors"]]


async def _demote_while_waiting(
    settings: Settings,
    database: TestDatabase,
    organization_id: Any,
    request: tuple[str, dict[str, Any], str],
    demotion: tuple[str, list[Any]],
) -> dict[str, Any]:
    """Send `request` (document, variables, token) while another transaction holds the grant lock;
    once it waits for the lock, that transaction runs `demotion` (SQL, arguments) and commits."""
    async with app_client(settings, database, ip="203.0.113.41") as http:
        async with _grant_lock_held(database, organization_id) as conn:
            task = asyncio.create_task(post_graphql(http, *request))
            await _until_a_request_waits_for_a_lock(conn)
            await conn.execute(demotion[0], *[uuid.UUID(str(a)) for a in demotion[1]])
        return await asyncio.wait_for(task, timeout=30)


def _left(member: Any, group: Any) -> tuple[str, list[Any]]:
    """The demotion: `member` (a factory's staff) leaves `group`."""
    return "DELETE FROM group_memberships WHERE user_id = $1 AND group_id = $2", [member.user.id, group.id]


@needs_concurrent_writers
async def test_a_manager_demoted_while_waiting_for_the_grant_lock_mints_no_token(
    tmp_path: Path, settings: Settings
) -> None:
    """An admin takes INTEGRATIONS_MANAGE away from a keeper while the keeper's createApiToken waits for
    the grant lock: judged under the lock as the keeper now stands, it is refused. (It was not: the
    keeper's grants were read again, but only the integration's grants were compared with them, so a
    keeper demoted meanwhile still got a token, a credential that outlives the keeper's own access.)"""
    async with own_database(tmp_path, "tokenrace") as database:
        factory = Factory()
        org = await factory.organization("tokenrace")
        l1 = org.locations[0]
        managing = await factory.group(org.organization, [P.INTEGRATIONS_MANAGE])
        reading = await factory.group(org.organization, [P.CLIENTS_READ, P.PROVIDERS_READ])
        keeper = await factory.user(org.organization, username="keeper", locations=[l1], groups=[managing, reading])
        partner = await factory.integration(org, [P.CLIENTS_READ], [l1])

        body = await _demote_while_waiting(
            settings,
            database,
            org.organization.id,
            (NEW_TOKEN, {"id": str(partner.integration.id)}, keeper.token),
            _left(keeper, managing),
        )
        assert _codes(body, "createApiToken") == ["FORBIDDEN"], body
        assert await ApiToken.filter(integration_id=partner.integration.id).count() == 1

        # Widening it (within what the keeper still holds) is refused the same way.
        wider = ["CLIENTS_READ", "PROVIDERS_READ"]
        await GroupMembership.create(organization_id=org.organization.id, group_id=managing.id, user_id=keeper.user.id)
        body = await _demote_while_waiting(
            settings,
            database,
            org.organization.id,
            (WIDEN, {"i": {"id": str(partner.integration.id), "permissions": wider}}, keeper.token),
            _left(keeper, managing),
        )
        assert _codes(body, "updateIntegration") == ["FORBIDDEN"], body
        assert (await Integration.get(id=partner.integration.id)).permissions == ["CLIENTS_READ"]


async def _group_to_delete(factory: Factory, org: Org) -> tuple[str, dict[str, Any], Callable[[], Awaitable[bool]]]:
    """deletePermissionGroup of a group, and whether the group is still there."""
    target = await factory.group(org.organization, [P.CLIENTS_READ], name="Front desk")
    return DELETE_GROUP, {"id": str(target.id)}, PermissionGroup.filter(id=target.id).exists


async def _location_to_reactivate(
    factory: Factory, org: Org
) -> tuple[str, dict[str, Any], Callable[[], Awaitable[bool]]]:
    """setLocationActive(true) of a closed location (restoring what it carried), and whether it is still closed."""
    closed = await factory.location(org.organization, "Closed site")
    await Location.filter(id=closed.id).update(is_active=False)
    return REACTIVATE, {"id": str(closed.id)}, Location.filter(id=closed.id, is_active=False).exists


@needs_concurrent_writers
@pytest.mark.parametrize(
    ("permission", "field", "arrange"),
    [
        (P.GROUPS_MANAGE, "deletePermissionGroup", _group_to_delete),
        (P.LOCATIONS_MANAGE, "setLocationActive", _location_to_reactivate),
    ],
    ids=["groups", "locations"],
)
async def test_a_manager_demoted_while_waiting_for_the_grant_lock_changes_nothing(
    tmp_path: Path, settings: Settings, permission: P, field: str, arrange: Any
) -> None:
    """The same for GROUPS_MANAGE (deleting a group) and LOCATIONS_MANAGE (reactivating a location, which
    restores what it carried): a manager who lost the permission while its call waited is refused."""
    async with own_database(tmp_path, "managerrace") as database:
        factory = Factory()
        org = await factory.organization("managerrace")
        managing = await factory.group(org.organization, [permission])
        manager = await factory.user(org.organization, username="manager", all_locations=True, groups=[managing])
        document, variables, unchanged = await arrange(factory, org)

        request = (document, variables, manager.token)
        body = await _demote_while_waiting(settings, database, org.organization.id, request, _left(manager, managing))
        assert _codes(body, field) == ["FORBIDDEN"], body
        assert await unchanged()


CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  user { id } errors { field code } } }"""


@needs_concurrent_writers
async def test_a_manager_moved_off_a_site_while_waiting_for_the_grant_lock_creates_no_user_there(
    tmp_path: Path, settings: Settings
) -> None:
    """createUser needs USERS_MANAGE at every selected location: asked again under the grant lock, so a
    manager moved off L2 while its request waited puts nobody at L2."""
    async with own_database(tmp_path, "userrace") as database:
        factory = Factory()
        org = await factory.organization("userrace")
        l1, l2 = org.locations
        managing = await factory.group(org.organization, [P.USERS_MANAGE, P.USERS_READ])
        manager = await factory.user(org.organization, username="manager", locations=[l1, l2], groups=[managing])
        new_user = {
            "login": {"username": "late.hire"},
            "contact": {"firstName": "Late", "lastName": "Hire", "type": "FRONT_DESK", "email": "late@clinic.example"},
            "sites": {"locationIds": [str(l2.id)]},
            "accessEnabled": False,
        }
        body = await _demote_while_waiting(
            settings,
            database,
            org.organization.id,
            (CREATE_USER, {"input": new_user}, manager.token),
            ("DELETE FROM user_locations WHERE user_id = $1 AND location_id = $2", [manager.user.id, l2.id]),
        )
        assert _codes(body, "createUser") == ["FORBIDDEN"], body
        assert not await User.filter(organization_id=org.organization.id, username="late.hire").exists()


# --------------------------------------------------------------------------- a link mailed to an old address

CREATE_INVITED = """mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } errors { code } } }"""
UPDATE_USER = """mutation($input: UpdateUserInput!) { updateUser(input: $input) { errors { code field } } }"""
MY_PROFILE = """mutation($input: UpdateMyProfileInput!) { updateMyProfile(input: $input) { errors { code field } } }"""
ACCEPT = """mutation($t: String!) { acceptStaffInvitation(input: {token: $t, password: "quiet-meadow-orchard-17"}) {
  token errors { code } } }"""


async def _mailed_link(address: str) -> str:
    mail = await OutboxMessage.filter(to_address=address).order_by("-created_at").first()
    assert mail is not None
    found = re.search(r"token=(tsl_[A-Za-z0-9_-]+)", mail.text_body)
    assert found is not None
    return found.group(1)


async def test_a_link_mailed_to_an_old_address_dies_when_the_email_is_changed(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """An invitation mailed to a mistyped address: the admin corrects the email. Whoever holds the old
    mailbox must not become the user (and hold its grants) with the link sent there: the link hands
    the account to the address it was mailed to, so it dies when that address is replaced, as it dies
    when the password, access or standing it would use changes (docs/architecture.md "Authentication")."""
    a1 = org_a.locations[0]
    readers = await factory.group(org_a.organization, [P.CLIENTS_READ, P.USERS_READ])
    made = await gql(
        CREATE_INVITED,
        {
            "input": {
                "login": {"username": "new.hire"},
                "contact": {"firstName": "New", "lastName": "Hire", "type": "FRONT_DESK", "email": "nwe@typo.example"},
                "sites": {"locationIds": [str(a1.id)]},
                "permissionGroupIds": [str(readers.id)],
                "accessEnabled": True,
                "registrationEmail": "SEND_NOW",
            }
        },
        token=org_a.admin.token,
    )
    assert made["data"]["createUser"]["errors"] == [], made
    user_id = made["data"]["createUser"]["user"]["id"]
    stale = await _mailed_link("nwe@typo.example")
    fixed = await gql(UPDATE_USER, {"input": {"id": user_id, "email": "new@clinic.example"}}, token=org_a.admin.token)
    assert fixed["data"]["updateUser"]["errors"] == []
    opened = await gql(ACCEPT, {"t": stale})
    assert opened["data"]["acceptStaffInvitation"]["token"] is None, opened
    assert [e["code"] for e in opened["data"]["acceptStaffInvitation"]["errors"]] == ["INVITATION_INVALID"]
    assert (await User.get(id=user_id)).password_hash is None
    # The invitation is mailed anew to the corrected address, and that link works.
    fresh = await _mailed_link("new@clinic.example")
    welcomed = await gql(ACCEPT, {"t": fresh})
    assert welcomed["data"]["acceptStaffInvitation"]["token"], welcomed
    event = await AuditEvent.filter(action="user.update", target_id=user_id).order_by("-occurred_at").first()
    assert event is not None and event.changes["linksMailedAnew"] == ["REGISTRATION"], event

    # The same for a reset link, when the user changes its own address.
    settled = await factory.user(org_a.organization, username="settled", locations=[a1], email="old@clinic.example")
    reset = await gql(
        "mutation($id: ID!) { resetCredentials(input: {id: $id}) { errors { code } } }",
        {"id": str(settled.user.id)},
        token=org_a.admin.token,
    )
    assert reset["data"]["resetCredentials"]["errors"] == []
    stale = await _mailed_link("old@clinic.example")
    relogged = await factory.session(settled.user)
    moved = await gql(
        MY_PROFILE, {"input": {"email": "mine@clinic.example", "currentPassword": PASSWORD}}, token=relogged[0]
    )
    assert moved["data"]["updateMyProfile"]["errors"] == [], moved
    opened = await gql(ACCEPT, {"t": stale})
    assert [e["code"] for e in opened["data"]["acceptStaffInvitation"]["errors"]] == ["INVITATION_INVALID"]


# --------------------------------------------------------------------------- filters on a guarded value

USERS_IN_GROUP = """query($g: ID!) { users(filter: {permissionGroupId: $g}) { edges { node { username } } } }"""


async def test_the_group_filter_tells_no_membership_the_viewer_may_not_see(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """`User.permissionGroups` shows another user's groups only to those who may see groups (GROUPS_MANAGE
    or USERS_MANAGE): filtering users by a group is the same question, so without that it may not answer
    it (docs/architecture.md "Scoping pairs": filters on a guarded value need the same permission)."""
    a1 = org_a.locations[0]
    reading = await factory.group(org_a.organization, [P.USERS_READ], name="Readers")
    secret = await factory.group(org_a.organization, [P.CLIENTS_READ], name="Secret team")
    viewer = await factory.user(org_a.organization, username="reader", locations=[a1], groups=[reading])
    colleague = await factory.user(org_a.organization, username="colleague", locations=[a1], groups=[secret])
    shown = await gql(
        "query($id: ID!) { user(id: $id) { permissionGroups { id } } }",
        {"id": str(colleague.user.id)},
        token=viewer.token,
    )
    assert shown["data"]["user"]["permissionGroups"] == []  # the field keeps the colleague's groups
    body = await gql(USERS_IN_GROUP, {"g": str(secret.id)}, token=viewer.token)
    listed = [e["node"]["username"] for e in ((body.get("data") or {}).get("users") or {"edges": []})["edges"]]
    assert "colleague" not in listed, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], body
    # Those who may see groups filter as before.
    managed = await gql(USERS_IN_GROUP, {"g": str(secret.id)}, token=org_a.admin.token)
    assert [e["node"]["username"] for e in managed["data"]["users"]["edges"]] == ["colleague"]
