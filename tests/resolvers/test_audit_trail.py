"""docs/architecture.md "Audit and PHI access" for the staff-administration mutations: each one, driven through
GraphQL as a clinic would,
writes its audit event with the before/after of the fields it changed, and no secret (password, PIN,
token, hash) ever reaches the trail, whatever the mutation carried."""

from __future__ import annotations

import json
import re

from models.audit import AuditEvent
from models.outbox import OutboxMessage
from models.users import User

PASSWORD = "quiet-harbour-lantern-62"
NEW_PASSWORD = "amber-meadow-kettle-97"
INVITE_PASSWORD = "copper-willow-stream-35"
PINS = ("3817", "4926", "5071")


async def _event(action: str, target_id: str) -> AuditEvent:
    events = await AuditEvent.filter(action=action, target_id=target_id).all()
    assert len(events) == 1, (action, [e.action for e in await AuditEvent.filter(target_id=target_id)])
    return events[0]


def _ok(body: dict, field: str) -> dict:
    assert "errors" not in body, body
    payload = body["data"][field]
    assert payload["errors"] == [], body
    return payload


async def test_every_staff_mutation_is_audited_without_secrets(gql, org_a) -> None:
    admin = org_a.admin.token

    async def run(field: str, document: str, variables: dict, token: str | None = admin) -> dict:
        """The mutation's payload, asserted free of errors; the admin's unless another token is given."""
        return _ok(await gql(document, variables, token=token), field)

    a1 = str(org_a.locations[0].id)

    created = await run(
        "createLocation",
        """mutation($i: CreateLocationInput!) { createLocation(input: $i) { location { id } errors { code } } }""",
        {"i": {"name": "East", "timezone": "America/Toronto"}},
    )
    east = created["location"]["id"]
    assert (await _event("location.create", east)).changes["name"] == [None, "East"]
    await run(
        "updateLocation",
        """mutation($i: UpdateLocationInput!) { updateLocation(input: $i) { location { id } errors { code } } }""",
        {"i": {"id": east, "name": "East end"}},
    )
    assert (await _event("location.update", east)).changes == {"name": ["East", "East end"]}
    await run(
        "setLocationActive",
        """mutation($id: ID!) { setLocationActive(input: {id: $id, active: false}) { location { id }
              errors { code } } }""",
        {"id": east},
    )
    assert (await _event("location.deactivate", east)).changes == {"is_active": [True, False]}

    user = (
        await run(
            "createUser",
            """mutation($i: CreateUserInput!) { createUser(input: $i) { user { id version } errors { code } } }""",
            {
                "i": {
                    "login": {"username": "mlee", "password": PASSWORD, "pin": PINS[0], "requirePasswordReset": False},
                    "contact": {"firstName": "Mina", "lastName": "Lee", "type": "FRONT_DESK", "email": "m@x.example"},
                    "sites": {"locationIds": [a1]},
                }
            },
        )
    )["user"]
    uid = user["id"]
    assert (await _event("user.create", uid)).changes["username"] == [None, "mlee"]
    await run(
        "updateUser",
        """mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { id } errors { code } } }""",
        {"i": {"id": uid, "expectedVersion": user["version"], "lastName": "Lee-Park"}},
    )
    assert (await _event("user.update", uid)).changes == {"last_name": ["Lee", "Lee-Park"]}
    await run(
        "resetCredentials",
        """mutation($id: ID!, $p: String, $pin: String) { resetCredentials(input: {id: $id, newPassword: $p,
              newPin: $pin, requirePasswordReset: false}) { user { id } errors { code } } }""",
        {"id": uid, "p": NEW_PASSWORD, "pin": PINS[1]},
    )
    await _event("user.credentials_reset", uid)

    login = await gql(
        """mutation($p: String!) { login(input: {organizationSlug: "clinic-a", username: "mlee", password: $p}) {
          token errors { code } } }""",
        {"p": NEW_PASSWORD},
    )
    own = _ok(login, "login")["token"]
    await run(
        "updateMyProfile",
        """mutation($pin: String, $p: String) { updateMyProfile(input: {phone: "416 555 0142", pin: $pin,
              currentPassword: $p}) { user { id } errors { code } } }""",
        {"pin": PINS[2], "p": NEW_PASSWORD},
        token=own,
    )
    assert (await _event("user.profile_update", uid)).changes["phone"] == [None, "+14165550142"]

    ids = {"ids": [uid]}
    access = "users { id accessStatus } errors { code }"
    disable = "mutation($ids: [ID!]!) { disableAccess(input: {userIds: $ids}) { ACCESS } }".replace("ACCESS", access)
    enable = (
        "mutation($ids: [ID!]!) { enableAccess(input: {userIds: $ids, registrationEmail: SEND_LATER}) { ACCESS } }"
    ).replace("ACCESS", access)
    send = "mutation($ids: [ID!]!) { sendRegistrationEmail(input: {userIds: $ids}) { ACCESS } }".replace(
        "ACCESS", access
    )
    await run("disableAccess", disable, ids)
    assert (await _event("user.access_disable", uid)).changes == {"access_status": ["ENABLED", "NO_ACCESS"]}
    # Without a password, re-enabling invites by email; the registration email can be sent again.
    await User.filter(id=uid).update(password_hash=None)
    await run("enableAccess", enable, ids)
    assert (await _event("user.access_enable", uid)).changes["access_status"] == ["NO_ACCESS", "INVITED"]
    await run("sendRegistrationEmail", send, ids)
    await _event("user.registration_email", uid)
    mail = await OutboxMessage.filter(to_address="m@x.example").order_by("-created_at").first()
    link_token = re.search(r"token=(tsl_[A-Za-z0-9_-]+)", mail.text_body).group(1)
    await run(
        "acceptStaffInvitation",
        """mutation($t: String!, $p: String!) { acceptStaffInvitation(input: {token: $t, password: $p,
              pin: "2468"}) { token errors { code } } }""",
        {"t": link_token, "p": INVITE_PASSWORD},
        token=None,
    )
    assert (await _event("auth.invitation_accept", uid)).changes == {"pinSet": True}

    await run(
        "setUserActive",
        """mutation($id: ID!) { setUserActive(input: {id: $id, active: false}) { user { id } errors { code } } }""",
        {"id": uid},
    )
    assert (await _event("user.deactivate", uid)).changes == {"is_active": [True, False]}

    group = (
        await run(
            "createPermissionGroup",
            """mutation($i: CreatePermissionGroupInput!) { createPermissionGroup(input: $i) {
              permissionGroup { id } errors { code } } }""",
            {"i": {"name": "Readers", "permissions": ["USERS_READ"], "memberIds": [uid]}},
        )
    )["permissionGroup"]["id"]
    assert (await _event("group.create", group)).changes["name"] == [None, "Readers"]
    await run(
        "updatePermissionGroup",
        """mutation($i: UpdatePermissionGroupInput!) { updatePermissionGroup(input: $i) {
              permissionGroup { id } errors { code } } }""",
        {"i": {"id": group, "permissions": ["USERS_READ", "CLIENTS_READ"], "removeMemberIds": [uid]}},
    )
    assert (await _event("group.update", group)).changes
    await run(
        "deletePermissionGroup",
        "mutation($id: ID!) { deletePermissionGroup(id: $id) { deletedId errors { code } } }",
        {"id": group},
    )
    await _event("group.delete", group)

    trail = json.dumps([(e.action, e.changes) for e in await AuditEvent.all()], default=str)
    for secret in (PASSWORD, NEW_PASSWORD, INVITE_PASSWORD, *PINS, "2468", link_token, own, "$argon2"):
        assert secret not in trail, secret
    assert not re.search(r"ts[slkp]_[A-Za-z0-9_-]{20,}", trail)
