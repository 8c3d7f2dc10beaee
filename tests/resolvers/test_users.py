"""Staff users (article 000): createUser in four parts, validation at each path, the docs/architecture.md "Principals
and grants" rules
(every site, admin-only, no escalation, last admin), optimistic updates, status, credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.audit import AuditEvent
from models.enums import AccessStatus, UserType
from models.outbox import OutboxMessage
from models.providers import Provider
from models.sessions import Session
from models.users import StaffToken, User
from permissions.catalog import Permission as P
from tests.factories import PASSWORD
from tests.support import error_codes

CREATE = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  user { id username displayName type email phone isAdmin accessStatus hasPin passwordResetRequired allLocations
         expiresAt status locations { id } permissionGroups { id } version
         effectivePermissions { permission allLocations } }
  errors { field code message } } }"""
UPDATE = """mutation($input: UpdateUserInput!) { updateUser(input: $input) {
  user { id username firstName lastName email isAdmin version expiresAt allLocations locations { id }
         permissionGroups { id } }
  errors { field code message } } }"""
SET_ACTIVE = """mutation($id: ID!, $active: Boolean!) { setUserActive(input: {id: $id, active: $active}) {
  user { id isActive status } errors { field code } } }"""
RESET = """mutation($input: ResetCredentialsInput!) { resetCredentials(input: $input) {
  user { id passwordResetRequired hasPin } errors { field code message } } }"""
PROFILE = """mutation($input: UpdateMyProfileInput!) { updateMyProfile(input: $input) {
  user { id firstName phone hasPin version } errors { field code } } }"""
USER = "query($id: ID!) { user(id: $id) { id username status } }"
VIEWER = "{ viewer { user { username } } }"


def create_input(username: str = "jsmith", **overrides):
    value = {
        "login": {"username": username, "password": "quiet-meadow-river-77", "pin": "4829"},
        "contact": {"firstName": "Jane", "lastName": "Smith", "type": "PROVIDER", "email": "jane@clinic.example"},
        "sites": {"locationIds": []},
    }
    for key, part in overrides.items():
        value[key] = {**value.get(key, {}), **part} if isinstance(part, dict) else part
    return value


async def test_create_user_in_four_parts(gql, org_a):
    a1 = org_a.locations[0]
    body = await gql(
        CREATE,
        {
            "input": create_input(
                "JSmith",
                login={"expiresAt": (datetime.now(UTC) + timedelta(days=30)).isoformat()},
                contact={"phone": "(416) 555-0123"},
                sites={"locationIds": [str(a1.id)]},
                billing={"provincialBillingNumber": "123456", "groupBillingNumber": "ab12"},
            )
        },
        token=org_a.admin.token,
    )
    payload = body["data"]["createUser"]
    assert payload["errors"] == [], body
    user = payload["user"]
    assert user["username"] == "JSmith" and user["displayName"] == "Jane Smith" and user["type"] == "PROVIDER"
    assert user["phone"] == "+14165550123" and user["hasPin"] and user["passwordResetRequired"]
    assert user["accessStatus"] == "ENABLED" and user["status"] == "ACTIVE" and user["expiresAt"]
    assert user["locations"] == [{"id": str(a1.id)}] and user["version"] == 1
    provider = await Provider.get(user_id=user["id"])
    assert provider.provincial_billing_number == "123456" and provider.group_billing_number == "AB12"
    event = await AuditEvent.get(action="user.create", target_id=user["id"])
    assert event.changes["username"] == [None, "JSmith"]
    assert "password_hash" not in event.changes and "pin_hash" not in event.changes
    assert "quiet-meadow" not in str(event.changes)


async def test_create_without_password_invites_by_email(gql, org_a):
    body = await gql(
        CREATE,
        {"input": {**create_input("invitee", login={"password": None, "pin": None}), "registrationEmail": "SEND_NOW"}},
        token=org_a.admin.token,
    )
    user = body["data"]["createUser"]["user"]
    assert user["accessStatus"] == "INVITED" and not user["passwordResetRequired"], body
    token = await StaffToken.get(user_id=user["id"])
    assert token.used_at is None and token.expires_at > datetime.now(UTC) + timedelta(hours=71)
    mail = await OutboxMessage.get(template="staff_registration", to_address="jane@clinic.example")
    assert "https://tessera.test/register?token=tsl_" in mail.text_body
    # No email, no invitation.
    body = await gql(
        CREATE,
        {"input": create_input("noemail", login={"password": None}, contact={"email": None})},
        token=org_a.admin.token,
    )
    assert body["data"]["createUser"]["errors"] == [
        {
            "field": ["input", "contact", "email"],
            "code": "INVALID",
            "message": "Enabling access needs an email address.",
        }
    ]


async def test_create_user_validates_each_field_at_its_path(gql, org_a, org_b):
    body = await gql(
        CREATE,
        {
            "input": {
                "login": {
                    "username": "bad name",
                    "password": "short",
                    "pin": "1111",
                    "expiresAt": "2001-01-01T00:00:00+00:00",
                },
                "contact": {"firstName": " ", "lastName": "", "type": "OTHER", "email": "nope", "phone": "12"},
                "sites": {"locationIds": [str(org_b.locations[0].id), "junk"]},
                "permissionGroupIds": ["00000000-0000-0000-0000-000000000000"],
                "billing": {"provincialBillingNumber": "12"},
            }
        },
        token=org_a.admin.token,
    )
    errors = {tuple(e["field"]): e["code"] for e in body["data"]["createUser"]["errors"]}
    assert errors == {
        ("input", "login", "username"): "INVALID",
        ("input", "login", "password"): "PASSWORD_TOO_WEAK",
        ("input", "login", "pin"): "INVALID",
        ("input", "login", "expiresAt"): "INVALID",
        ("input", "contact", "firstName"): "REQUIRED",
        ("input", "contact", "lastName"): "REQUIRED",
        ("input", "contact", "email"): "INVALID",
        ("input", "contact", "phone"): "INVALID",
        ("input", "sites", "locationIds", "0"): "NOT_FOUND",
        ("input", "sites", "locationIds", "1"): "NOT_FOUND",
        ("input", "permissionGroupIds", "0"): "NOT_FOUND",
        ("input", "billing", "provincialBillingNumber"): "INVALID",
    }
    assert not await User.exists(username_key="bad name")


async def test_usernames_are_unique_per_organization_case_insensitive(gql, org_a, org_b):
    body = await gql(CREATE, {"input": create_input("ADMIN")}, token=org_a.admin.token)
    assert [(e["field"], e["code"]) for e in body["data"]["createUser"]["errors"]] == [
        (["input", "login", "username"], "DUPLICATE")
    ]
    body = await gql(CREATE, {"input": create_input("someone")}, token=org_b.admin.token)
    assert body["data"]["createUser"]["errors"] == []


async def test_only_admins_grant_is_admin_and_no_one_grants_more_than_held(gql, factory, org_a):
    a1, a2 = org_a.locations
    manager_group = await factory.group(org_a.organization, [P.USERS_READ, P.USERS_MANAGE], locations=[a1])
    big = await factory.group(org_a.organization, [P.CLIENTS_READ])
    manager = await factory.user(org_a.organization, locations=[a1, a2], groups=[manager_group])
    sites = {"locationIds": [str(a1.id)]}
    cases = [
        (create_input("xx1", login={"isAdmin": True}, sites=sites), ["input", "login", "isAdmin"]),
        ({**create_input("xx2", sites=sites), "permissionGroupIds": [str(big.id)]}, ["input", "permissionGroupIds"]),
        (create_input("xx3", sites={"locationIds": [str(a2.id)]}), ["input", "sites"]),
        (create_input("xx4", sites={"allLocations": True}), ["input", "sites"]),
    ]
    for value, path in cases:
        body = await gql(CREATE, {"input": {**value, "accessEnabled": False}}, token=manager.token)
        assert [(e["field"], e["code"]) for e in body["data"]["createUser"]["errors"]] == [(path, "FORBIDDEN")], body
    # Within its reach, the manager may create a user in its own group at A1.
    body = await gql(
        CREATE,
        {
            "input": {
                **create_input("ok1", sites=sites),
                "permissionGroupIds": [str(manager_group.id)],
                "accessEnabled": False,
            }
        },
        token=manager.token,
    )
    assert body["data"]["createUser"]["errors"] == [], body
    assert await AuditEvent.filter(action="user.create.refused").count() == 4


async def test_update_needs_the_permission_at_every_site_of_the_target(gql, factory, org_a):
    a1, a2 = org_a.locations
    group = await factory.group(org_a.organization, [P.USERS_READ, P.USERS_MANAGE], locations=[a1])
    manager = await factory.user(org_a.organization, locations=[a1, a2], groups=[group])
    both = await factory.user(org_a.organization, locations=[a1, a2])
    only_a1 = await factory.user(org_a.organization, locations=[a1])
    body = await gql(UPDATE, {"input": {"id": str(both.user.id), "firstName": "No"}}, token=manager.token)
    assert [(e["field"], e["code"]) for e in body["data"]["updateUser"]["errors"]] == [(["input", "id"], "FORBIDDEN")]
    body = await gql(UPDATE, {"input": {"id": str(only_a1.user.id), "firstName": "Yes"}}, token=manager.token)
    assert body["data"]["updateUser"]["errors"] == [] and body["data"]["updateUser"]["user"]["version"] == 2
    # Moving that user to A2 needs the permission at A2 too.
    body = await gql(
        UPDATE, {"input": {"id": str(only_a1.user.id), "sites": {"locationIds": [str(a2.id)]}}}, token=manager.token
    )
    assert [(e["field"], e["code"]) for e in body["data"]["updateUser"]["errors"]] == [
        (["input", "sites"], "FORBIDDEN")
    ]
    # An admin is changed only by an admin.
    body = await gql(UPDATE, {"input": {"id": str(org_a.admin.user.id), "firstName": "X"}}, token=manager.token)
    assert [e["code"] for e in body["data"]["updateUser"]["errors"]] == ["FORBIDDEN"]


async def test_update_user_with_a_stale_version_is_a_conflict(gql, factory, org_a):
    staff = await factory.user(org_a.organization, locations=org_a.locations)
    uid = str(staff.user.id)
    body = await gql(
        UPDATE, {"input": {"id": uid, "expectedVersion": 1, "lastName": "Newname"}}, token=org_a.admin.token
    )
    assert body["data"]["updateUser"]["user"]["version"] == 2
    body = await gql(UPDATE, {"input": {"id": uid, "expectedVersion": 1, "lastName": "Lost"}}, token=org_a.admin.token)
    assert [(e["field"], e["code"]) for e in body["data"]["updateUser"]["errors"]] == [
        (["input", "expectedVersion"], "CONFLICT")
    ]
    assert (await User.get(id=uid)).last_name == "Newname"


async def test_update_user_replaces_sites_and_groups_and_clears_expiry(gql, factory, org_a):
    a1, a2 = org_a.locations
    g1 = await factory.group(org_a.organization, [P.USERS_READ], name="g1")
    g2 = await factory.group(org_a.organization, [P.CLIENTS_READ], name="g2")
    staff = await factory.user(
        org_a.organization, locations=[a1], groups=[g1], expires_at=datetime.now(UTC) + timedelta(days=3)
    )
    body = await gql(
        UPDATE,
        {
            "input": {
                "id": str(staff.user.id),
                "sites": {"locationIds": [str(a2.id)]},
                "permissionGroupIds": [str(g2.id)],
                "expiresAt": None,
                "username": "renamed",
            }
        },
        token=org_a.admin.token,
    )
    user = body["data"]["updateUser"]["user"]
    assert body["data"]["updateUser"]["errors"] == [], body
    assert user["locations"] == [{"id": str(a2.id)}] and user["permissionGroups"] == [{"id": str(g2.id)}]
    assert user["expiresAt"] is None and user["username"] == "renamed"
    event = await AuditEvent.get(action="user.update", target_id=staff.user.id)
    assert event.changes["location_ids"] == [[str(a1.id)], [str(a2.id)]]
    assert set(event.changes) >= {"username", "expires_at", "permission_group_ids"}


async def test_the_last_admin_cannot_be_removed(gql, factory, org_a):
    admin_id = str(org_a.admin.user.id)
    for document, variables, name in [
        (SET_ACTIVE, {"id": admin_id, "active": False}, "setUserActive"),
        (UPDATE, {"input": {"id": admin_id, "isAdmin": False}}, "updateUser"),
        # An expiry date, even a future one, would lock the organization out the day it passes.
        (UPDATE, {"input": {"id": admin_id, "expiresAt": (datetime.now(UTC) + timedelta(days=1)).isoformat()}}, None),
    ]:
        body = await gql(document, variables, token=org_a.admin.token)
        errors = body["data"][name or "updateUser"]["errors"]
        assert [(e["code"], e["field"]) for e in errors][:1] in (
            [("LAST_ADMIN", ["input", "active"])],
            [("LAST_ADMIN", ["input", "isAdmin"])],
            [("LAST_ADMIN", ["input", "expiresAt"])],
        ), body
    assert (await User.get(id=admin_id)).expires_at is None
    body = await gql(
        "mutation($ids: [ID!]!) { disableAccess(input: {userIds: $ids}) { users { id } errors { code } } }",
        {"ids": [admin_id]},
        token=org_a.admin.token,
    )
    assert [e["code"] for e in body["data"]["disableAccess"]["errors"]] == ["LAST_ADMIN"]
    assert (await User.get(id=admin_id)).is_admin
    # A second admin who is expiring too does not count: once both dates pass, no one is left.
    second = await factory.user(
        org_a.organization,
        username="second",
        is_admin=True,
        all_locations=True,
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )
    later = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    body = await gql(UPDATE, {"input": {"id": admin_id, "expiresAt": later}}, token=org_a.admin.token)
    assert [e["code"] for e in body["data"]["updateUser"]["errors"]] == ["LAST_ADMIN"], body
    # With a second admin who stays, the first may take an end date, or step down.
    await User.filter(id=second.user.id).update(expires_at=None)
    body = await gql(UPDATE, {"input": {"id": admin_id, "expiresAt": later}}, token=org_a.admin.token)
    assert body["data"]["updateUser"]["errors"] == [], body
    body = await gql(UPDATE, {"input": {"id": admin_id, "isAdmin": False}}, token=org_a.admin.token)
    assert body["data"]["updateUser"]["errors"] == []


async def test_status_is_computed_at_read_time(gql, factory, org_a):
    expired = await factory.user(org_a.organization, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    inactive = await factory.user(org_a.organization, active=False)
    locked = await factory.user(org_a.organization)
    from models.enums import LoginOutcome
    from models.sessions import LoginAttempt

    now_ts = int(datetime.now(UTC).timestamp())
    await LoginAttempt.create(
        organization_id=org_a.organization.id,
        username_key=locked.user.username_key,
        ip_address="203.0.113.1",
        outcome=LoginOutcome.FAILED,
        ip_locked_until=now_ts + 600,
        created_at=now_ts,
    )
    for staff, status in ((expired, "EXPIRED"), (inactive, "INACTIVE"), (locked, "LOCKED"), (org_a.admin, "ACTIVE")):
        body = await gql(USER, {"id": str(staff.user.id)}, token=org_a.admin.token)
        assert body["data"]["user"]["status"] == status
    # An expiry in the past denies access at the next request, without any job.
    body = await gql(VIEWER, token=expired.token)
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_deactivating_ends_sessions(gql, factory, org_a):
    staff = await factory.user(org_a.organization, locations=org_a.locations)
    body = await gql(SET_ACTIVE, {"id": str(staff.user.id), "active": False}, token=org_a.admin.token)
    assert body["data"]["setUserActive"]["user"] == {"id": str(staff.user.id), "isActive": False, "status": "INACTIVE"}
    assert error_codes(await gql(VIEWER, token=staff.token)) == ["UNAUTHENTICATED"]
    assert not await Session.filter(user_id=staff.user.id, revoked_at__isnull=True).exists()


async def test_reset_credentials_sets_or_mails_and_ends_sessions(gql, factory, org_a):
    staff = await factory.user(org_a.organization, locations=org_a.locations, with_pin=False)
    body = await gql(
        RESET,
        {"input": {"id": str(staff.user.id), "newPassword": "amber-tundra-falcon-31", "newPin": "5820"}},
        token=org_a.admin.token,
    )
    assert body["data"]["resetCredentials"]["user"] == {
        "id": str(staff.user.id),
        "passwordResetRequired": True,
        "hasPin": True,
    }
    assert error_codes(await gql(VIEWER, token=staff.token)) == ["UNAUTHENTICATED"]
    body = await gql(RESET, {"input": {"id": str(staff.user.id)}}, token=org_a.admin.token)
    assert body["data"]["resetCredentials"]["errors"] == []
    assert await OutboxMessage.exists(template="password_reset", to_address=staff.user.email)
    event = await AuditEvent.filter(action="user.credentials_reset").order_by("-occurred_at").first()
    assert "amber" not in str(event.changes) and event.changes["resetLinkSent"] is True
    body = await gql(RESET, {"input": {"id": str(staff.user.id), "newPassword": "short"}}, token=org_a.admin.token)
    assert [(e["field"], e["code"]) for e in body["data"]["resetCredentials"]["errors"]] == [
        (["input", "newPassword"], "PASSWORD_TOO_WEAK")
    ]


async def test_a_user_without_a_group_edits_only_its_own_profile(gql, factory, org_a):
    staff = await factory.user(org_a.organization, locations=[org_a.locations[0]], with_pin=False)
    body = await gql(
        PROFILE,
        {"input": {"firstName": "Sam", "phone": "416-555-0100", "pin": "2580", "currentPassword": PASSWORD}},
        token=staff.token,
    )
    assert body["data"]["updateMyProfile"] == {
        "user": {"id": str(staff.user.id), "firstName": "Sam", "phone": "+14165550100", "hasPin": True, "version": 2},
        "errors": [],
    }
    body = await gql(PROFILE, {"input": {"expectedVersion": 1, "firstName": "Old"}}, token=staff.token)
    assert [e["code"] for e in body["data"]["updateMyProfile"]["errors"]] == ["CONFLICT"]
    body = await gql(PROFILE, {"input": {"pin": "1234", "email": "x"}}, token=staff.token)
    assert {tuple(e["field"]) for e in body["data"]["updateMyProfile"]["errors"]} == {
        ("input", "pin"),
        ("input", "email"),
    }
    assert error_codes(await gql(USER, {"id": str(staff.user.id)}, token=staff.token)) == ["FORBIDDEN"]
    body = await gql(UPDATE, {"input": {"id": str(staff.user.id), "firstName": "X"}}, token=staff.token)
    assert error_codes(body) == ["FORBIDDEN"]
    assert (await User.get(id=staff.user.id)).type is UserType.FRONT_DESK
    assert (await User.get(id=staff.user.id)).access_status is AccessStatus.ENABLED


async def test_update_refuses_groups_beyond_the_actors_grants_at_that_field(gql, factory, org_a):
    a1 = org_a.locations[0]
    manager_group = await factory.group(org_a.organization, [P.USERS_READ, P.USERS_MANAGE], locations=[a1])
    readers = await factory.group(org_a.organization, [P.CLIENTS_READ], name="Readers")
    manager = await factory.user(org_a.organization, locations=[a1], groups=[manager_group])
    target = await factory.user(org_a.organization, locations=[a1])
    body = await gql(
        UPDATE,
        {"input": {"id": str(target.user.id), "permissionGroupIds": [str(readers.id)], "firstName": "Nope"}},
        token=manager.token,
    )
    assert [(e["field"], e["code"]) for e in body["data"]["updateUser"]["errors"]] == [
        (["input", "permissionGroupIds"], "FORBIDDEN")
    ]
    row = await User.get(id=target.user.id)
    assert row.first_name == "Test" and row.version == 1
    # Its own group (everything in it the manager holds at A1) is fine.
    body = await gql(
        UPDATE,
        {"input": {"id": str(target.user.id), "permissionGroupIds": [str(manager_group.id)]}},
        token=manager.token,
    )
    assert body["data"]["updateUser"]["errors"] == []


async def test_create_past_the_seat_limit_writes_nothing(gql, factory):
    org = await factory.organization(seat_limit=1)
    body = await gql(CREATE, {"input": create_input("seatless")}, token=org.admin.token)
    assert [(e["field"], e["code"]) for e in body["data"]["createUser"]["errors"]] == [
        (["input", "accessEnabled"], "SEAT_LIMIT_REACHED")
    ]
    assert not await User.exists(username_key="seatless")
    body = await gql(CREATE, {"input": {**create_input("seatless"), "accessEnabled": False}}, token=org.admin.token)
    assert body["data"]["createUser"]["user"]["accessStatus"] == "NO_ACCESS"


async def test_an_admin_may_step_down_when_another_remains(gql, factory, org_a):
    await factory.user(org_a.organization, username="deputy", is_admin=True, all_locations=True)
    body = await gql(SET_ACTIVE, {"id": str(org_a.admin.user.id), "active": False}, token=org_a.admin.token)
    assert body["data"]["setUserActive"]["errors"] == []
    # Its own session ended with it.
    assert error_codes(await gql(VIEWER, token=org_a.admin.token)) == ["UNAUTHENTICATED"]


async def test_a_new_email_or_pin_needs_the_current_password(gql, factory, org_a):
    """Found in a security review: whoever sat down at a session left open set their own PIN (and
    unlocked the session with it once it locked) or their own email (and received the next reset link
    an admin sent). A new email or PIN now needs the current password; guesses count as failed logins."""
    staff = await factory.user(org_a.organization, locations=[org_a.locations[0]], email="me@clinic.example")
    same = await gql(PROFILE, {"input": {"firstName": "Mo", "email": "ME@clinic.example"}}, token=staff.token)
    assert same["data"]["updateMyProfile"]["errors"] == [], same  # the same address: nothing to confirm
    before = await User.get(id=staff.user.id)
    for change in ({"pin": "2580"}, {"email": "thief@evil.example"}, {"email": None}):
        body = await gql(PROFILE, {"input": change}, token=staff.token)
        assert body["data"]["updateMyProfile"]["errors"] == [
            {"field": ["input", "currentPassword"], "code": "REQUIRED"}
        ]
        body = await gql(PROFILE, {"input": {**change, "currentPassword": "not-the-password"}}, token=staff.token)
        assert body["data"]["updateMyProfile"]["errors"] == [
            {"field": ["input", "currentPassword"], "code": "INVALID_CREDENTIALS"}
        ]
    after = await User.get(id=staff.user.id)
    assert (after.email, after.pin_hash) == (before.email, before.pin_hash)
    assert await AuditEvent.filter(action="user.profile_update_failed", target_id=staff.user.id).count() == 3
    body = await gql(PROFILE, {"input": {"pin": "2580", "currentPassword": PASSWORD}}, token=staff.token)
    assert body["data"]["updateMyProfile"]["errors"] == [] and body["data"]["updateMyProfile"]["user"]["hasPin"]
    # Two more wrong guesses make five: the login throttle stops the right password too, as at login.
    for _ in range(2):
        await gql(PROFILE, {"input": {"email": "x@evil.example", "currentPassword": "guess"}}, token=staff.token)
    body = await gql(
        PROFILE, {"input": {"email": "new@clinic.example", "currentPassword": PASSWORD}}, token=staff.token
    )
    assert body["data"]["updateMyProfile"]["errors"] == [
        {"field": ["input", "currentPassword"], "code": "LOGIN_THROTTLED"}
    ]
    assert (await User.get(id=staff.user.id)).email == "ME@clinic.example"


async def test_ones_own_email_and_credentials_change_only_with_ones_password(gql, factory, org_a):
    """Found in review: after updateMyProfile asked for the password, an admin's open session still
    took the account over through the admin mutations aimed at oneself: updateUser to one's own new
    email (the next reset link went there), resetCredentials to a new password (every other session,
    the owner's included, ended). Both are refused for oneself; another admin still may."""
    me = org_a.admin
    other = await factory.user(org_a.organization, is_admin=True, username="second.admin")
    body = await gql(UPDATE, {"input": {"id": str(me.user.id), "email": "thief@evil.example"}}, token=me.token)
    assert [(e["field"], e["code"]) for e in body["data"]["updateUser"]["errors"]] == [
        (["input", "email"], "FORBIDDEN")
    ]
    body = await gql(
        RESET,
        {"input": {"id": str(me.user.id), "newPassword": "thief-chosen-phrase-9", "requirePasswordReset": False}},
        token=me.token,
    )
    assert [(e["field"], e["code"]) for e in body["data"]["resetCredentials"]["errors"]] == [
        (["input", "id"], "FORBIDDEN")
    ]
    assert (await User.get(id=me.user.id)).email == me.user.email
    assert await Session.filter(user_id=me.user.id, revoked_at__isnull=True).exists()
    # A change of case only is the same mailbox: no takeover, nothing to refuse.
    recased = me.user.email.capitalize()  # Admin@clinic.example (a domain is stored lower-case anyway)
    body = await gql(UPDATE, {"input": {"id": str(me.user.id), "email": recased}}, token=me.token)
    assert body["data"]["updateUser"]["errors"] == [], body
    assert (await User.get(id=me.user.id)).email == recased != me.user.email
    body = await gql(UPDATE, {"input": {"id": str(me.user.id), "firstName": "Still"}}, token=me.token)
    assert body["data"]["updateUser"]["errors"] == []  # the rest of one's own record, as before
    body = await gql(UPDATE, {"input": {"id": str(me.user.id), "email": "new@clinic.example"}}, token=other.token)
    assert body["data"]["updateUser"]["errors"] == []
