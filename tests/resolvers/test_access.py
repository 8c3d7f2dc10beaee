"""Staff access (article 004): enable one or many (email now or later), seats, registration links,
disable; a user with access but no group can log in and do nothing else."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from models.enums import AccessStatus
from models.outbox import OutboxMessage
from models.sessions import Session
from models.users import StaffToken, User
from permissions.catalog import Permission as P
from tests.support import error_codes

ENABLE = """mutation($ids: [ID!]!, $d: EmailDelivery) { enableAccess(input: {userIds: $ids, registrationEmail: $d}) {
  users { id accessStatus registrationEmailSentAt } errors { field code } } }"""
DISABLE = """mutation($ids: [ID!]!) { disableAccess(input: {userIds: $ids}) {
  users { id accessStatus } errors { field code } } }"""
SEND = """mutation($ids: [ID!]!) { sendRegistrationEmail(input: {userIds: $ids}) {
  users { id registrationEmailSentAt } errors { field code } } }"""
ACCEPT = """mutation($t: String!, $p: String!, $pin: String) {
  acceptStaffInvitation(input: {token: $t, password: $p, pin: $pin}) {
    token passwordResetRequired user { username accessStatus hasPin } errors { field code } } }"""
ORG = "{ organization { seatLimit seatsUsed } }"
LOGIN = """mutation($s: String!, $u: String!, $p: String!) { login(input: {organizationSlug: $s, username: $u,
  password: $p}) { token errors { code } } }"""
NEW_PASSWORD = "sunlit-orchard-pebble-84"


async def invitee(factory, org):
    """A staff record without access and without a password (the user sets it from the email)."""
    staff = await factory.user(org.organization, access=AccessStatus.NO_ACCESS, session=False)
    await User.filter(id=staff.user.id).update(password_hash=None)
    staff.user.password_hash = None
    return staff


async def _link(user_id) -> str:
    user = await User.get(id=user_id)
    mail = await OutboxMessage.filter(to_address=user.email).order_by("-created_at").first()
    assert mail is not None
    return re.search(r"token=(tsl_[A-Za-z0-9_-]+)", mail.text_body).group(1)


async def test_enable_many_send_now_then_accept(gql, factory, org_a):
    one = await invitee(factory, org_a)
    two = await factory.user(org_a.organization, access=AccessStatus.NO_ACCESS, session=False)
    body = await gql(ENABLE, {"ids": [str(one.user.id), str(two.user.id)]}, token=org_a.admin.token)
    users = {u["id"]: u for u in body["data"]["enableAccess"]["users"]}
    assert body["data"]["enableAccess"]["errors"] == []
    # No password yet: invited by email. A password already: enabled at once.
    assert users[str(one.user.id)]["accessStatus"] == "INVITED" and users[str(one.user.id)]["registrationEmailSentAt"]
    assert users[str(two.user.id)]["accessStatus"] == "ENABLED"

    token = await _link(one.user.id)
    body = await gql(ACCEPT, {"t": token, "p": NEW_PASSWORD, "pin": "3817"})
    accepted = body["data"]["acceptStaffInvitation"]
    assert accepted["errors"] == [] and accepted["token"].startswith("tss_"), body
    assert accepted["user"] == {"username": one.user.username, "accessStatus": "ENABLED", "hasPin": True}
    viewer = await gql("{ viewer { user { username } } }", token=accepted["token"])
    assert viewer["data"]["viewer"]["user"]["username"] == one.user.username
    # Single use.
    again = await gql(ACCEPT, {"t": token, "p": NEW_PASSWORD})
    assert [e["code"] for e in again["data"]["acceptStaffInvitation"]["errors"]] == ["INVITATION_INVALID"]
    # The new password logs in.
    login = await gql(LOGIN, {"s": "clinic-a", "u": one.user.username, "p": NEW_PASSWORD})
    assert login["data"]["login"]["errors"] == []


async def test_send_later_then_resend_voids_the_old_link(gql, factory, org_a):
    staff = await invitee(factory, org_a)
    body = await gql(ENABLE, {"ids": [str(staff.user.id)], "d": "SEND_LATER"}, token=org_a.admin.token)
    assert body["data"]["enableAccess"]["users"][0] == {
        "id": str(staff.user.id),
        "accessStatus": "INVITED",
        "registrationEmailSentAt": None,
    }
    assert not await OutboxMessage.exists(to_address=staff.user.email)
    await gql(SEND, {"ids": [str(staff.user.id)]}, token=org_a.admin.token)
    first = await _link(staff.user.id)
    body = await gql(SEND, {"ids": [str(staff.user.id)]}, token=org_a.admin.token)
    assert body["data"]["sendRegistrationEmail"]["users"][0]["registrationEmailSentAt"]
    second = await _link(staff.user.id)
    assert first != second
    old = await gql(ACCEPT, {"t": first, "p": NEW_PASSWORD})
    assert [e["code"] for e in old["data"]["acceptStaffInvitation"]["errors"]] == ["INVITATION_INVALID"]
    weak = await gql(ACCEPT, {"t": second, "p": "short", "pin": "1111"})
    assert {tuple(e["field"]) for e in weak["data"]["acceptStaffInvitation"]["errors"]} == {
        ("input", "password"),
        ("input", "pin"),
    }
    ok = await gql(ACCEPT, {"t": second, "p": NEW_PASSWORD})
    assert ok["data"]["acceptStaffInvitation"]["errors"] == []


async def test_expired_and_unknown_links_are_invalid(gql, factory, org_a):
    staff = await invitee(factory, org_a)
    await gql(ENABLE, {"ids": [str(staff.user.id)]}, token=org_a.admin.token)
    token = await _link(staff.user.id)
    await StaffToken.filter(user_id=staff.user.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    for value in (token, "tsl_unknown", ""):
        body = await gql(ACCEPT, {"t": value, "p": NEW_PASSWORD})
        assert [e["code"] for e in body["data"]["acceptStaffInvitation"]["errors"]] == ["INVITATION_INVALID"]
    assert (await User.get(id=staff.user.id)).password_hash is None


async def test_a_registration_link_lives_72_hours(gql, factory, org_a):
    staff = await invitee(factory, org_a)
    sent = datetime.now(UTC)
    await gql(ENABLE, {"ids": [str(staff.user.id)]}, token=org_a.admin.token)
    (link,) = await StaffToken.filter(user_id=staff.user.id, revoked_at__isnull=True)
    assert abs(link.expires_at - (sent + timedelta(hours=72))) < timedelta(minutes=1), link.expires_at


async def test_sending_needs_an_invited_user_with_email(gql, factory, org_a):
    enabled = await factory.user(org_a.organization, session=False)
    no_email = await invitee(factory, org_a)
    await User.filter(id=no_email.user.id).update(email=None)
    body = await gql(SEND, {"ids": [str(enabled.user.id)]}, token=org_a.admin.token)
    assert body["data"]["sendRegistrationEmail"]["errors"] == [{"field": ["input", "userIds", "0"], "code": "INVALID"}]
    body = await gql(ENABLE, {"ids": ["not-a-uuid", str(no_email.user.id)]}, token=org_a.admin.token)
    assert body["data"]["enableAccess"]["errors"] == [{"field": ["input", "userIds", "0"], "code": "NOT_FOUND"}]
    body = await gql(ENABLE, {"ids": [str(no_email.user.id)]}, token=org_a.admin.token)
    assert body["data"]["enableAccess"]["errors"] == [{"field": ["input", "userIds", "0"], "code": "INVALID"}]


async def test_a_batch_past_the_seat_limit_fails_whole(gql, factory):
    org = await factory.organization(seat_limit=3)
    staff = [await factory.user(org.organization, access=AccessStatus.NO_ACCESS, session=False) for _ in range(3)]
    body = await gql(ORG, token=org.admin.token)
    assert body["data"]["organization"] == {"seatLimit": 3, "seatsUsed": 1}
    body = await gql(ENABLE, {"ids": [str(s.user.id) for s in staff]}, token=org.admin.token)
    assert body["data"]["enableAccess"] == {
        "users": [],
        "errors": [{"field": ["input", "userIds"], "code": "SEAT_LIMIT_REACHED"}],
    }
    assert not await User.filter(id__in=[s.user.id for s in staff], access_status=AccessStatus.ENABLED).exists()
    body = await gql(ENABLE, {"ids": [str(s.user.id) for s in staff[:2]]}, token=org.admin.token)
    assert body["data"]["enableAccess"]["errors"] == []
    body = await gql(ORG, token=org.admin.token)
    assert body["data"]["organization"]["seatsUsed"] == 3
    # Disabling frees a seat and ends the user's sessions.
    token, _ = await factory.session(staff[0].user)
    body = await gql(DISABLE, {"ids": [str(staff[0].user.id)]}, token=org.admin.token)
    assert body["data"]["disableAccess"]["users"] == [{"id": str(staff[0].user.id), "accessStatus": "NO_ACCESS"}]
    assert error_codes(await gql("{ viewer { kind } }", token=token)) == ["UNAUTHENTICATED"]
    assert not await Session.filter(user_id=staff[0].user.id, revoked_at__isnull=True).exists()
    body = await gql(ENABLE, {"ids": [str(staff[2].user.id)]}, token=org.admin.token)
    assert body["data"]["enableAccess"]["errors"] == []


async def test_access_changes_need_the_permission_at_every_site(gql, factory, org_a):
    a1, a2 = org_a.locations
    group = await factory.group(org_a.organization, [P.USERS_READ, P.USERS_ACCESS_MANAGE], locations=[a1])
    manager = await factory.user(org_a.organization, locations=[a1, a2], groups=[group])
    at_a1 = await factory.user(org_a.organization, locations=[a1], access=AccessStatus.NO_ACCESS, session=False)
    at_both = await factory.user(org_a.organization, locations=[a1, a2], access=AccessStatus.NO_ACCESS, session=False)
    body = await gql(ENABLE, {"ids": [str(at_a1.user.id), str(at_both.user.id)]}, token=manager.token)
    assert body["data"]["enableAccess"]["errors"] == [{"field": ["input", "userIds", "1"], "code": "FORBIDDEN"}]
    assert (await User.get(id=at_a1.user.id)).access_status is AccessStatus.NO_ACCESS
    body = await gql(ENABLE, {"ids": [str(at_a1.user.id)]}, token=manager.token)
    assert body["data"]["enableAccess"]["errors"] == []


async def test_access_without_a_group_allows_only_viewer_and_own_profile(gql, factory, org_a):
    staff = await factory.user(org_a.organization, locations=[org_a.locations[0]])
    body = await gql("{ viewer { user { username } permissions { permission } } }", token=staff.token)
    assert body["data"]["viewer"]["permissions"] == []
    body = await gql(
        'mutation { updateMyProfile(input: {firstName: "Mo"}) { user { firstName } errors { code } } }',
        token=staff.token,
    )
    assert body["data"]["updateMyProfile"] == {"user": {"firstName": "Mo"}, "errors": []}
    for document in ("{ users { totalCount } }", "{ permissionGroups { id } }"):
        assert error_codes(await gql(document, token=staff.token)) == ["FORBIDDEN"]
    body = await gql("{ locations { id } }", token=staff.token)
    assert body["data"]["locations"] == [{"id": str(org_a.locations[0].id)}]


async def test_a_password_reset_link_sets_a_new_password(gql, factory, org_a):
    staff = await factory.user(org_a.organization, locations=org_a.locations)
    body = await gql(
        "mutation($id: ID!) { resetCredentials(input: {id: $id}) { errors { code } } }",
        {"id": str(staff.user.id)},
        token=org_a.admin.token,
    )
    assert body["data"]["resetCredentials"]["errors"] == []
    mail = await OutboxMessage.get(template="password_reset", to_address=staff.user.email)
    assert "https://tessera.test/reset-password?token=tsl_" in mail.text_body
    token = re.search(r"token=(tsl_[A-Za-z0-9_-]+)", mail.text_body).group(1)
    body = await gql(ACCEPT, {"t": token, "p": NEW_PASSWORD})
    assert body["data"]["acceptStaffInvitation"]["errors"] == []
    assert body["data"]["acceptStaffInvitation"]["passwordResetRequired"] is False
    login = await gql(LOGIN, {"s": "clinic-a", "u": staff.user.username, "p": NEW_PASSWORD})
    assert login["data"]["login"]["errors"] == []
