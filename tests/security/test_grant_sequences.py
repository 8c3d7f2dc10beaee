"""Sequences of allowed calls that must not add up to escalation (issue 7): taking over an account
is granting, restoring grants is granting, the last admin counts future dates, and a link dies
with the credential it would set. Each test replays the attack an outside review reproduced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.enums import AccessStatus, StaffTokenPurpose
from models.providers import Provider
from models.users import StaffToken, User
from permissions.catalog import Permission as P
from resolvers.credentials import LINK_TOKEN_PREFIX, new_token, token_hash
from tests.factories import PASSWORD as CURRENT_PASSWORD
from tests.factories import Factory, Org, Staff, make_provider, staff_with
from tests.support import GQL, payload_codes

PASSWORD = "heron-granite-orchard-41"
RESET = """mutation ($id: ID!, $p: String, $pin: String) {
  resetCredentials(input: {id: $id, newPassword: $p, newPin: $pin}) { errors { code field } } }"""
UPDATE = """mutation ($input: UpdateUserInput!) { updateUser(input: $input) { errors { code field } } }"""
ACTIVE = (
    """mutation ($id: ID!, $a: Boolean!) { setUserActive(input: {id: $id, active: $a}) { errors { code field } } }"""
)
ENABLE = """mutation ($ids: [ID!]!, $d: EmailDelivery) { enableAccess(input: {userIds: $ids, registrationEmail: $d}) {
  errors { code field } } }"""
SEND = """mutation ($ids: [ID!]!) { sendRegistrationEmail(input: {userIds: $ids}) { errors { code field } } }"""
ACCEPT = """mutation ($t: String!, $p: String!) { acceptStaffInvitation(input: {token: $t, password: $p}) {
  token errors { code field } } }"""


async def _manager(factory: Factory, org: Org, *extra: P) -> Staff:
    """A user manager at the first location only, holding every user permission there."""
    perms = [P.USERS_READ, P.USERS_MANAGE, P.USERS_ACCESS_MANAGE, P.USERS_CREDENTIALS_RESET, *extra]
    return await staff_with(factory, org, perms, [org.locations[0]])


async def _auditor(factory: Factory, org: Org, **extra) -> Staff:
    """A user at the manager's location who holds AUDIT_READ organization-wide (the manager does not)."""
    auditors = await factory.group(org.organization, [P.AUDIT_READ])
    extra.setdefault("email", "auditor@example.org")
    return await factory.user(org.organization, locations=[org.locations[0]], groups=[auditors], **extra)


async def _link(user: User, purpose: StaffTokenPurpose = StaffTokenPurpose.REGISTRATION) -> str:

    token = new_token(LINK_TOKEN_PREFIX)
    await StaffToken.create(
        organization_id=user.organization_id,
        user=user,
        purpose=purpose,
        token_hash=token_hash(token),
        expires_at=datetime.now(UTC) + timedelta(hours=72),
    )
    return token


# --------------------------------------------------------------------------- taking over is granting


async def test_setting_a_password_or_pin_above_ones_own_is_refused(gql: GQL, factory: Factory, org_a: Org) -> None:
    manager = await _manager(factory, org_a)
    auditor = await _auditor(factory, org_a)
    before = (await User.get(id=auditor.user.id)).password_hash
    for variables in ({"p": PASSWORD}, {"pin": "4826"}, {}):
        body = await gql(RESET, {"id": str(auditor.user.id), **variables}, token=manager.token)
        assert body["data"]["resetCredentials"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "id"]}], body
    assert (await User.get(id=auditor.user.id)).password_hash == before
    assert not await StaffToken.filter(user_id=auditor.user.id).exists()
    # Within the manager's own grants it still works.
    plain = await factory.user(org_a.organization, username="plain", locations=[org_a.locations[0]])
    body = await gql(RESET, {"id": str(plain.user.id), "p": PASSWORD}, token=manager.token)
    assert payload_codes(body["data"]["resetCredentials"]) == []


async def test_taking_over_a_provider_hands_over_their_clients_not_ones_own(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """CLIENTS_READ_OWN reads the clients whose primary provider is the holder. A manager holding it
    who sets a provider's password would read that provider's clients as the provider: taking the
    account over needs CLIENTS_READ there, not the manager's own "My Clients"."""
    manager = await _manager(factory, org_a, P.CLIENTS_READ_OWN)
    my_clients = await factory.group(org_a.organization, [P.CLIENTS_READ_OWN])
    provider = await factory.user(
        org_a.organization, username="dr-own", locations=[org_a.locations[0]], groups=[my_clients]
    )
    body = await gql(RESET, {"id": str(provider.user.id), "p": PASSWORD}, token=manager.token)
    assert body["data"]["resetCredentials"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "id"]}], body
    reader = await _manager(factory, org_a, P.CLIENTS_READ)
    body = await gql(RESET, {"id": str(provider.user.id), "p": PASSWORD}, token=reader.token)
    assert payload_codes(body["data"]["resetCredentials"]) == []


async def test_giving_my_clients_needs_clients_read_in_either_order(gql: GQL, factory: Factory, org_a: Org) -> None:
    """Found in review: with the takeover rule alone, the same manager could set a provider's
    password first and give them "My Clients" after, or create them with both. Giving someone else
    CLIENTS_READ_OWN hands them clients the actor's own does not reach, whatever comes next."""
    manager = await _manager(factory, org_a, P.CLIENTS_READ_OWN)
    my_clients = await factory.group(org_a.organization, [P.CLIENTS_READ_OWN])
    provider = await factory.user(org_a.organization, username="dr-new", locations=[org_a.locations[0]])
    body = await gql(RESET, {"id": str(provider.user.id), "p": PASSWORD}, token=manager.token)
    assert payload_codes(body["data"]["resetCredentials"]) == []  # holds nothing: nothing handed over
    grant = {"input": {"id": str(provider.user.id), "permissionGroupIds": [str(my_clients.id)]}}
    body = await gql(UPDATE, grant, token=manager.token)
    assert body["data"]["updateUser"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "permissionGroupIds"]}]
    # Enabling access with a link to a passwordless provider holding it is refused the same way.
    invited = await factory.user(
        org_a.organization,
        username="dr-off",
        locations=[org_a.locations[0]],
        groups=[my_clients],
        access=AccessStatus.NO_ACCESS,
        session=False,
        email="off@example.org",
    )
    await User.filter(id=invited.user.id).update(password_hash=None)
    body = await gql(ENABLE, {"ids": [str(invited.user.id)], "d": "SEND_NOW"}, token=manager.token)
    assert [e["code"] for e in body["data"]["enableAccess"]["errors"]] == ["FORBIDDEN"], body
    # With CLIENTS_READ there, both are allowed.
    reader = await _manager(factory, org_a, P.CLIENTS_READ)
    assert payload_codes((await gql(UPDATE, grant, token=reader.token))["data"]["updateUser"]) == []


async def test_widening_a_my_clients_group_is_blamed_on_its_locations(gql: GQL, factory: Factory, org_a: Org) -> None:
    """The excess is named CLIENTS_READ (what My Clients reaches for others); the field to blame is
    still the one that widened it, here its locations, not its permissions."""
    a1, a2 = org_a.locations
    keeper = await staff_with(factory, org_a, [P.GROUPS_MANAGE, P.CLIENTS_READ_OWN], [a1, a2])
    group = await factory.group(org_a.organization, [P.CLIENTS_READ_OWN], name="My clients", locations=[a1])
    widen = """mutation ($id: ID!, $locs: [ID!]) { updatePermissionGroup(input: {id: $id, locationIds: $locs}) {
      errors { code field } } }"""
    body = await gql(widen, {"id": str(group.id), "locs": [str(a1.id), str(a2.id)]}, token=keeper.token)
    errors = body["data"]["updatePermissionGroup"]["errors"]
    assert errors == [{"code": "FORBIDDEN", "field": ["input", "locationIds"]}], body


async def test_ones_own_credentials_change_with_ones_password(gql: GQL, factory: Factory, org_a: Org) -> None:
    """Found in review: counting "My Clients" as CLIENTS_READ refused a user its own PIN. One's own PIN
    is set with updateMyProfile and one's password, which compares no grants; resetCredentials, which
    asks for no password, refuses oneself (a session left open is not the account)."""
    manager = await _manager(factory, org_a, P.CLIENTS_READ_OWN)
    body = await gql(RESET, {"id": str(manager.user.id), "pin": "4826"}, token=manager.token)
    assert payload_codes(body["data"]["resetCredentials"]) == ["FORBIDDEN"]
    body = await gql(
        """mutation ($p: String) { updateMyProfile(input: {pin: "4826", currentPassword: $p}) { errors { code } } }""",
        {"p": CURRENT_PASSWORD},
        token=manager.token,
    )
    assert payload_codes(body["data"]["updateMyProfile"]) == []


async def test_redirecting_an_invited_users_email_is_taking_it_over(gql: GQL, factory: Factory, org_a: Org) -> None:
    manager = await _manager(factory, org_a)
    invited = await _auditor(factory, org_a, access=AccessStatus.INVITED, session=False)
    await User.filter(id=invited.user.id).update(password_hash=None)
    # A change of case too: the link would be mailed anew to that spelling, which a mail server may
    # deliver elsewhere (found in review, when case-only changes of one's own email were allowed).
    for email in ("m@example.com", "AUDITOR@example.org"):
        body = await gql(UPDATE, {"input": {"id": str(invited.user.id), "email": email}}, token=manager.token)
        assert body["data"]["updateUser"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "email"]}]
    assert (await User.get(id=invited.user.id)).email == "auditor@example.org"
    # A user with a password and no outstanding link: the email is only contact data.
    settled = await _auditor(factory, org_a, username="settled")
    body = await gql(UPDATE, {"input": {"id": str(settled.user.id), "email": "new@example.org"}}, token=manager.token)
    assert payload_codes(body["data"]["updateUser"]) == []
    # ...until a reset link is outstanding for it.
    await _link(settled.user, StaffTokenPurpose.PASSWORD_RESET)
    body = await gql(UPDATE, {"input": {"id": str(settled.user.id), "email": "m@example.com"}}, token=manager.token)
    assert payload_codes(body["data"]["updateUser"]) == ["FORBIDDEN"]


async def test_mailing_links_above_ones_own_is_refused(gql: GQL, factory: Factory, org_a: Org) -> None:
    manager = await _manager(factory, org_a)
    invited = await _auditor(factory, org_a, access=AccessStatus.INVITED, session=False)
    await User.filter(id=invited.user.id).update(password_hash=None)
    body = await gql(SEND, {"ids": [str(invited.user.id)]}, token=manager.token)
    assert body["data"]["sendRegistrationEmail"]["errors"] == [
        {"code": "FORBIDDEN", "field": ["input", "userIds", "0"]}
    ]
    off = await _auditor(factory, org_a, username="off", access=AccessStatus.NO_ACCESS, session=False)
    await User.filter(id=off.user.id).update(password_hash=None)
    body = await gql(ENABLE, {"ids": [str(off.user.id)], "d": "SEND_NOW"}, token=manager.token)
    assert payload_codes(body["data"]["enableAccess"]) == ["FORBIDDEN"]
    assert not await StaffToken.filter(user_id__in=[invited.user.id, off.user.id]).exists()
    assert (await User.get(id=off.user.id)).access_status is AccessStatus.NO_ACCESS


# --------------------------------------------------------------------------- restoring is granting


async def test_restoring_grants_above_ones_own_is_refused(gql: GQL, factory: Factory, org_a: Org) -> None:
    manager = await _manager(factory, org_a)
    inactive = await _auditor(factory, org_a, username="inactive", active=False)
    body = await gql(ACTIVE, {"id": str(inactive.user.id), "a": True}, token=manager.token)
    assert body["data"]["setUserActive"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "active"]}]
    assert not (await User.get(id=inactive.user.id)).is_active

    off = await _auditor(factory, org_a, username="off", access=AccessStatus.NO_ACCESS)
    body = await gql(ENABLE, {"ids": [str(off.user.id)], "d": "SEND_LATER"}, token=manager.token)
    assert payload_codes(body["data"]["enableAccess"]) == ["FORBIDDEN"]

    soon = datetime.now(UTC) + timedelta(days=2)
    expiring = await _auditor(factory, org_a, username="expiring", expires_at=soon)
    for later in (None, (soon + timedelta(days=30)).isoformat()):
        body = await gql(UPDATE, {"input": {"id": str(expiring.user.id), "expiresAt": later}}, token=manager.token)
        assert body["data"]["updateUser"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "expiresAt"]}]
    # Bringing an expiry forward takes grants away: allowed.
    earlier = (soon - timedelta(days=1)).isoformat()
    body = await gql(UPDATE, {"input": {"id": str(expiring.user.id), "expiresAt": earlier}}, token=manager.token)
    assert payload_codes(body["data"]["updateUser"]) == []
    # An admin may restore all of them.
    body = await gql(ACTIVE, {"id": str(inactive.user.id), "a": True}, token=org_a.admin.token)
    assert payload_codes(body["data"]["setUserActive"]) == []


async def test_undoing_a_provider_deactivation_above_ones_own_is_refused(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    deactivator = await staff_with(factory, org_a, [P.PROVIDERS_READ, P.PROVIDERS_DEACTIVATE], [org_a.locations[0]])
    auditor = await _auditor(factory, org_a)
    provider = await make_provider(auditor.user)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    schedule = """mutation ($id: ID!, $at: DateTime) { deactivateProvider(input: {id: $id, effectiveAt: $at}) {
      errors { code } } }"""
    body = await gql(schedule, {"id": str(provider.id), "at": tomorrow}, token=deactivator.token)
    assert payload_codes(body["data"]["deactivateProvider"]) == []
    cancel = "mutation ($id: ID!) { cancelProviderDeactivation(input: {id: $id}) { errors { code field } } }"
    body = await gql(cancel, {"id": str(provider.id)}, token=deactivator.token)
    assert body["data"]["cancelProviderDeactivation"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "id"]}]
    body = await gql(schedule, {"id": str(provider.id), "at": None}, token=org_a.admin.token)
    assert payload_codes(body["data"]["deactivateProvider"]) == []
    reactivate = "mutation ($id: ID!) { reactivateProvider(input: {id: $id}) { errors { code field } } }"
    body = await gql(reactivate, {"id": str(provider.id)}, token=deactivator.token)
    assert payload_codes(body["data"]["reactivateProvider"]) == ["FORBIDDEN"]
    assert (await Provider.get(id=provider.id)).status.value == "INACTIVE"
    body = await gql(reactivate, {"id": str(provider.id)}, token=org_a.admin.token)
    assert payload_codes(body["data"]["reactivateProvider"]) == []


async def test_no_one_extends_their_own_end_date(gql: GQL, factory: Factory, org_a: Org) -> None:
    """A temporary manager whose expiry an admin set holds USERS_MANAGE at its own site, and a
    provider leaving holds PROVIDERS_DEACTIVATE there: neither may postpone, clear or call off its
    own end date (restoring is granting, and never to oneself); another manager may."""
    a1 = org_a.locations[0]
    temp = await staff_with(
        factory, org_a, [P.USERS_READ, P.USERS_MANAGE, P.PROVIDERS_READ, P.PROVIDERS_DEACTIVATE], [a1]
    )
    week = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    body = await gql(UPDATE, {"input": {"id": str(temp.user.id), "expiresAt": week}}, token=org_a.admin.token)
    assert payload_codes(body["data"]["updateUser"]) == []
    for later in ((datetime.now(UTC) + timedelta(days=700)).isoformat(), None):
        body = await gql(UPDATE, {"input": {"id": str(temp.user.id), "expiresAt": later}}, token=temp.token)
        assert body["data"]["updateUser"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "expiresAt"]}]
    sooner = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    body = await gql(UPDATE, {"input": {"id": str(temp.user.id), "expiresAt": sooner}}, token=temp.token)
    assert payload_codes(body["data"]["updateUser"]) == [], "bringing it forward gives nothing back"

    provider = await make_provider(temp.user)
    schedule = """mutation ($id: ID!, $at: DateTime) { deactivateProvider(input: {id: $id, effectiveAt: $at}) {
      errors { code field } } }"""
    body = await gql(schedule, {"id": str(provider.id), "at": sooner}, token=org_a.admin.token)
    assert payload_codes(body["data"]["deactivateProvider"]) == []
    cancel = "mutation ($id: ID!) { cancelProviderDeactivation(input: {id: $id}) { errors { code field } } }"
    body = await gql(cancel, {"id": str(provider.id)}, token=temp.token)
    assert body["data"]["cancelProviderDeactivation"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "id"]}]
    body = await gql(cancel, {"id": str(provider.id)}, token=org_a.admin.token)
    assert payload_codes(body["data"]["cancelProviderDeactivation"]) == []
    assert (await User.get(id=temp.user.id)).expires_at is not None


# --------------------------------------------------------------------------- never locked out, counting the future


async def test_the_last_admin_guard_counts_dates_already_set(gql: GQL, factory: Factory, org_a: Org) -> None:
    admin_a = org_a.admin
    admin_b = await factory.user(org_a.organization, username="admin-b", is_admin=True, all_locations=True)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = await gql(UPDATE, {"input": {"id": str(admin_a.user.id), "expiresAt": tomorrow}}, token=admin_b.token)
    assert payload_codes(body["data"]["updateUser"]) == []
    # Every way of removing B now leaves only an admin who stops tomorrow.
    body = await gql(ACTIVE, {"id": str(admin_b.user.id), "a": False}, token=admin_a.token)
    assert payload_codes(body["data"]["setUserActive"]) == ["LAST_ADMIN"]
    body = await gql(UPDATE, {"input": {"id": str(admin_b.user.id), "isAdmin": False}}, token=admin_a.token)
    assert payload_codes(body["data"]["updateUser"]) == ["LAST_ADMIN"]
    body = await gql(UPDATE, {"input": {"id": str(admin_b.user.id), "expiresAt": tomorrow}}, token=admin_a.token)
    assert payload_codes(body["data"]["updateUser"]) == ["LAST_ADMIN"]
    provider = await make_provider(admin_b.user)
    next_week = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    body = await gql(
        "mutation ($id: ID!, $at: DateTime) { deactivateProvider(input: {id: $id, effectiveAt: $at})"
        " { errors { code } } }",
        {"id": str(provider.id), "at": next_week},
        token=admin_a.token,
    )
    assert payload_codes(body["data"]["deactivateProvider"]) == ["LAST_ADMIN"]
    row = await User.get(id=admin_b.user.id)
    assert row.is_admin and row.is_active and row.expires_at is None


# --------------------------------------------------------------------------- a link dies with its credential


async def test_a_reset_link_dies_when_the_password_changes_by_any_path(gql: GQL, factory: Factory, org_a: Org) -> None:
    user = await factory.user(org_a.organization, username="linked", locations=[org_a.locations[0]])
    change = """mutation ($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) {
      errors { code } } }"""
    # changePassword
    link = await _link(user.user, StaffTokenPurpose.PASSWORD_RESET)
    body = await gql(change, {"c": CURRENT_PASSWORD, "n": PASSWORD}, token=user.token)
    assert payload_codes(body["data"]["changePassword"]) == []
    body = await gql(ACCEPT, {"t": link, "p": "another-long-secret-92"})
    assert payload_codes(body["data"]["acceptStaffInvitation"]) == ["INVITATION_INVALID"]
    # resetCredentials with a password
    link = await _link(user.user, StaffTokenPurpose.PASSWORD_RESET)
    body = await gql(RESET, {"id": str(user.user.id), "p": "meadow-cinder-pylon-77"}, token=org_a.admin.token)
    assert payload_codes(body["data"]["resetCredentials"]) == []
    body = await gql(ACCEPT, {"t": link, "p": "another-long-secret-92"})
    assert payload_codes(body["data"]["acceptStaffInvitation"]) == ["INVITATION_INVALID"]
    # another link, once used, voids the first (whatever its purpose)
    first = await _link(user.user, StaffTokenPurpose.PASSWORD_RESET)
    await User.filter(id=user.user.id).update(access_status=AccessStatus.ENABLED)
    second = await _link(user.user, StaffTokenPurpose.REGISTRATION)
    await User.filter(id=user.user.id).update(access_status=AccessStatus.INVITED)
    body = await gql(ACCEPT, {"t": second, "p": "another-long-secret-92"})
    assert payload_codes(body["data"]["acceptStaffInvitation"]) == []
    body = await gql(ACCEPT, {"t": first, "p": "yet-another-secret-13"})
    assert payload_codes(body["data"]["acceptStaffInvitation"]) == ["INVITATION_INVALID"]


async def test_a_link_dies_when_access_is_disabled_or_the_user_deactivated(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    for mutation, name in (
        ("mutation ($id: ID!) { disableAccess(input: {userIds: [$id]}) { errors { code } } }", "disableAccess"),
        ("mutation ($id: ID!) { setUserActive(input: {id: $id, active: false}) { errors { code } } }", "setUserActive"),
    ):
        user = await factory.user(org_a.organization, locations=[org_a.locations[0]])
        link = await _link(user.user, StaffTokenPurpose.PASSWORD_RESET)
        body = await gql(mutation, {"id": str(user.user.id)}, token=org_a.admin.token)
        assert payload_codes(body["data"][name]) == []
        # Whatever is restored later, the link stays dead.
        await User.filter(id=user.user.id).update(is_active=True, access_status=AccessStatus.ENABLED)
        body = await gql(ACCEPT, {"t": link, "p": "another-long-secret-92"})
        assert payload_codes(body["data"]["acceptStaffInvitation"]) == ["INVITATION_INVALID"], name
        token = await StaffToken.get(token_hash=token_hash(link))
        assert token.revoked_at is not None


async def test_postponing_a_scheduled_deactivation_is_restoring(gql: GQL, factory: Factory, org_a: Org) -> None:
    deactivator = await staff_with(factory, org_a, [P.PROVIDERS_READ, P.PROVIDERS_DEACTIVATE], [org_a.locations[0]])
    auditor = await _auditor(factory, org_a)
    provider = await make_provider(auditor.user)
    schedule = """mutation ($id: ID!, $at: DateTime) { deactivateProvider(input: {id: $id, effectiveAt: $at}) {
      errors { code field } } }"""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = await gql(schedule, {"id": str(provider.id), "at": tomorrow}, token=org_a.admin.token)
    assert payload_codes(body["data"]["deactivateProvider"]) == []
    far = (datetime.now(UTC) + timedelta(days=3000)).isoformat()
    body = await gql(schedule, {"id": str(provider.id), "at": far}, token=deactivator.token)
    assert body["data"]["deactivateProvider"]["errors"] == [{"code": "FORBIDDEN", "field": ["input", "effectiveAt"]}]
    # Bringing it forward takes grants away sooner: allowed.
    sooner = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    body = await gql(schedule, {"id": str(provider.id), "at": sooner}, token=deactivator.token)
    assert payload_codes(body["data"]["deactivateProvider"]) == []


async def test_undoing_a_passed_provider_deactivation_does_not_revive_links(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    from models.enums import ProviderStatus

    for mutation, name in (
        ("mutation ($id: ID!) { reactivateProvider(input: {id: $id}) { errors { code } } }", "reactivateProvider"),
        (
            "mutation ($id: ID!) { cancelProviderDeactivation(input: {id: $id}) { errors { code } } }",
            "cancelProviderDeactivation",
        ),
    ):
        user = await factory.user(org_a.organization, locations=[org_a.locations[0]])
        passed = datetime.now(UTC) - timedelta(minutes=5)
        provider = await make_provider(user.user, status=ProviderStatus.DEACTIVATION_SCHEDULED, deactivate_at=passed)
        link = await _link(user.user, StaffTokenPurpose.PASSWORD_RESET)
        body = await gql(ACCEPT, {"t": link, "p": "another-long-secret-92"})
        assert payload_codes(body["data"]["acceptStaffInvitation"]) == ["INVITATION_INVALID"]
        body = await gql(mutation, {"id": str(provider.id)}, token=org_a.admin.token)
        assert payload_codes(body["data"][name]) == [], body
        body = await gql(ACCEPT, {"t": link, "p": "another-long-secret-92"})
        assert payload_codes(body["data"]["acceptStaffInvitation"]) == ["INVITATION_INVALID"], name
