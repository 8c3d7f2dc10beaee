"""What an access or credentials change did not do is said, not silent: enabling someone who already
has a password sends no registration email, a user with no permission group can do nothing (article
004: staff need a group), and resetting only a PIN mails nothing."""

from __future__ import annotations

from models.enums import AccessStatus
from models.outbox import OutboxMessage
from models.users import User
from permissions.catalog import Permission as P
from resolvers.credentials import verify_secret

ENABLE = """mutation($ids: [ID!]!, $d: EmailDelivery) { enableAccess(input: {userIds: $ids, registrationEmail: $d}) {
  users { id accessStatus } errors { code } warnings { field code message } } }"""
RESET = """mutation($input: ResetCredentialsInput!) { resetCredentials(input: $input) {
  user { id hasPin } errors { field code } } }"""


async def test_send_now_for_someone_with_a_password_says_no_email_was_sent(gql, factory, org_a):
    # In a group, so the no-group warning stays out of this test.
    group = await factory.group(org_a.organization, [P.USERS_READ])
    staff = await factory.user(org_a.organization, access=AccessStatus.NO_ACCESS, groups=[group], session=False)
    body = await gql(ENABLE, {"ids": [str(staff.user.id)], "d": "SEND_NOW"}, token=org_a.admin.token)
    payload = body["data"]["enableAccess"]
    assert payload["errors"] == [] and payload["users"][0]["accessStatus"] == "ENABLED"
    assert [(w["field"], w["code"]) for w in payload["warnings"]] == [
        (["input", "userIds", "0"], "REGISTRATION_EMAIL_NOT_SENT")
    ]
    assert "already has a password" in payload["warnings"][0]["message"]
    assert not await OutboxMessage.exists(to_address=staff.user.email)


async def test_enabling_a_user_with_no_permission_group_warns(gql, factory, org_a):
    group = await factory.group(org_a.organization, [P.USERS_READ])
    grouped = await factory.user(org_a.organization, access=AccessStatus.NO_ACCESS, groups=[group], session=False)
    lonely = await factory.user(org_a.organization, access=AccessStatus.NO_ACCESS, session=False)
    await User.filter(id__in=[grouped.user.id, lonely.user.id]).update(password_hash=None)
    body = await gql(ENABLE, {"ids": [str(grouped.user.id), str(lonely.user.id)]}, token=org_a.admin.token)
    payload = body["data"]["enableAccess"]
    assert payload["errors"] == []
    warned = [(w["field"], w["code"]) for w in payload["warnings"]]
    assert warned == [(["input", "userIds", "1"], "NO_PERMISSION_GROUP")]
    # SEND_LATER to someone with no password and a group: nothing to warn about.
    body = await gql(ENABLE, {"ids": [str(grouped.user.id)], "d": "SEND_LATER"}, token=org_a.admin.token)
    assert body["data"]["enableAccess"]["warnings"] == []


async def test_resetting_only_the_pin_sets_it_and_mails_nothing(gql, factory, org_a):
    staff = await factory.user(org_a.organization, with_pin=False, session=False)
    body = await gql(RESET, {"input": {"id": str(staff.user.id), "newPin": "5173"}}, token=org_a.admin.token)
    payload = body["data"]["resetCredentials"]
    assert payload["errors"] == [] and payload["user"]["hasPin"] is True
    user = await User.get(id=staff.user.id)
    assert verify_secret(user.pin_hash, "5173")
    assert not await OutboxMessage.exists(to_address=staff.user.email), "no password reset mail"
    # Omitting both still mails a reset link, as before.
    body = await gql(RESET, {"input": {"id": str(staff.user.id)}}, token=org_a.admin.token)
    assert body["data"]["resetCredentials"]["errors"] == []
    assert await OutboxMessage.filter(to_address=staff.user.email).count() == 1
