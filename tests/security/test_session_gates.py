"""The gates of docs/architecture.md "Principals and grants" and "Authentication":
PASSWORD_RESET_REQUIRED, SESSION_LOCKED, and revocations that take effect on the very next request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from permissions.catalog import Permission as P
from tests.factories import Factory, Org, make_client, make_provider, staff_with
from tests.support import GQL, error_codes, payload_codes

NESTED = """
query { viewer { user { id permissionGroups { members { totalCount } } provider { clientCount } } } }
"""


async def test_password_reset_session_reaches_nothing_but_the_viewer(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1 = org_a.locations[0]
    me = await staff_with(
        factory, org_a, [P.USERS_READ, P.PROVIDERS_READ, P.CLIENTS_READ], [a1], password_reset_required=True
    )
    await make_provider(me.user)
    body = await gql("query { viewer { user { id } } }", token=me.token)
    assert body["data"]["viewer"]["user"]["id"] == str(me.user.id)
    for query in (
        "query { users { totalCount } }",
        "query { organization { id } }",
        "query { locations { id } }",
        "query { clients { totalCount } }",
        "query { mySessions { id } }",
    ):
        assert error_codes(await gql(query, token=me.token)) == ["PASSWORD_RESET_REQUIRED"], query
    body = await gql(NESTED, token=me.token)
    assert set(error_codes(body)) == {"PASSWORD_RESET_REQUIRED"}
    assert "totalCount" not in str(body["data"]) and "clientCount" not in str(body["data"])
    body = await gql('mutation { updateMyProfile(input: {firstName: "Eve"}) { errors { code } } }', token=me.token)
    assert error_codes(body) == ["PASSWORD_RESET_REQUIRED"]


async def test_locked_session_answers_session_locked(gql: GQL, factory: Factory, org_a: Org) -> None:
    me = await staff_with(factory, org_a, [P.USERS_READ], [org_a.locations[0]])
    token, _ = await factory.session(me.user, idle_for=timedelta(hours=1))
    for query in (
        "query { viewer { user { id } } }",
        "query { users { totalCount } }",
        'mutation { changePassword(input: {currentPassword: "x", newPassword: "y"}) { ok } }',
    ):
        body = await gql(query, token=token)
        assert error_codes(body) == ["UNAUTHENTICATED"], query
        assert body["errors"][0]["extensions"]["reason"] == "SESSION_LOCKED"


async def test_revocations_take_effect_on_the_next_request(gql: GQL, factory: Factory, org_a: Org) -> None:
    a1, a2 = org_a.locations
    patient = await make_client(org_a, a2, "Pat", "Ient")
    reader = await factory.group(org_a.organization, [P.CLIENTS_READ, P.USERS_READ])
    user = await factory.user(org_a.organization, username="r", locations=[a1, a2], groups=[reader])
    query = "query ($id: ID!) { client(id: $id) { id } }"
    assert (await gql(query, {"id": str(patient.id)}, token=user.token))["data"]["client"] is not None
    # A deactivated location: what was granted there ends at once.
    body = await gql(
        "mutation ($id: ID!) { setLocationActive(input: {id: $id, active: false}) { errors { code } } }",
        {"id": str(a2.id)},
        token=org_a.admin.token,
    )
    assert payload_codes(body["data"]["setLocationActive"]) == []
    assert (await gql(query, {"id": str(patient.id)}, token=user.token))["data"]["client"] is None
    body = await gql("query ($id: ID!) { location(id: $id) { id } }", {"id": str(a2.id)}, token=user.token)
    assert body["data"]["location"] is None
    # Removed from the group: nothing left.
    body = await gql(
        "mutation ($g: ID!, $u: ID!) { updatePermissionGroup(input: {id: $g, removeMemberIds: [$u]})"
        " { errors { code } } }",
        {"g": str(reader.id), "u": str(user.user.id)},
        token=org_a.admin.token,
    )
    assert payload_codes(body["data"]["updatePermissionGroup"]) == []
    assert error_codes(await gql("query { users { totalCount } }", token=user.token)) == ["FORBIDDEN"]
    # Access disabled: the token is dead.
    body = await gql(
        "mutation ($u: ID!) { disableAccess(input: {userIds: [$u]}) { errors { code } } }",
        {"u": str(user.user.id)},
        token=org_a.admin.token,
    )
    assert payload_codes(body["data"]["disableAccess"]) == []
    assert error_codes(await gql("query { viewer { user { id } } }", token=user.token)) == ["UNAUTHENTICATED"]


async def test_expired_and_scheduled_deactivation_deny_without_a_job(gql: GQL, factory: Factory, org_a: Org) -> None:
    from datetime import UTC, datetime

    from models.providers import Provider
    from models.users import User

    a1 = org_a.locations[0]
    expiring = await staff_with(factory, org_a, [P.USERS_READ], [a1])
    await User.filter(id=expiring.user.id).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert error_codes(await gql("query { viewer { user { id } } }", token=expiring.token)) == ["UNAUTHENTICATED"]
    leaving = await staff_with(factory, org_a, [P.USERS_READ], [a1])
    provider = await make_provider(leaving.user)
    await Provider.filter(id=provider.id).update(
        status="DEACTIVATION_SCHEDULED", deactivate_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert error_codes(await gql("query { viewer { user { id } } }", token=leaving.token)) == ["UNAUTHENTICATED"]


async def test_a_session_that_must_change_its_password_reads_its_own_viewer_whole(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """Such a session may call `viewer` (and changePassword, logout): its own user reads whole, groups
    included, where a PASSWORD_RESET_REQUIRED at the non-null list nulled the user (audit 53)."""
    staff = await staff_with(factory, org_a, [P.CLIENTS_READ], org_a.locations[:1], password_reset_required=True)
    body = await gql("{ viewer { kind user { username permissionGroups { name } } } }", token=staff.token)
    assert error_codes(body) == [], body
    assert body["data"]["viewer"]["user"]["username"] == staff.user.username
    assert len(body["data"]["viewer"]["user"]["permissionGroups"]) == 1
    body = await gql("{ users { totalCount } }", token=staff.token)
    assert error_codes(body) == ["PASSWORD_RESET_REQUIRED"], body


# --------------------------------------------------------------------------- a passed date ends sessions

REVIVE_VIEWER = "{ viewer { user { username } } }"


async def _expire_user(staff: Any) -> None:
    from datetime import UTC, datetime

    from models.users import User

    await User.filter(id=staff.user.id).update(expires_at=datetime.now(UTC) - timedelta(minutes=5))


async def _provider_date_passed(staff: Any) -> Any:
    from datetime import UTC, datetime

    from models.enums import ProviderStatus
    from models.providers import Provider

    provider = await make_provider(staff.user)
    await Provider.filter(id=provider.id).update(
        status=ProviderStatus.DEACTIVATION_SCHEDULED, deactivate_at=datetime.now(UTC) - timedelta(minutes=5)
    )
    return provider


@pytest.mark.parametrize("undo", ["new expiry", "reactivate provider", "cancel deactivation"])
async def test_a_session_a_passed_date_ended_stays_ended_when_the_date_is_undone(
    gql: GQL, factory: Factory, org_a: Org, undo: str
) -> None:
    """An expiry or a provider's deactivation date that passed ends the user's sessions, whether or not
    the job that applies it ran first: restoring the user gives access back, never an old token
    (one left on a shared workstation before a contract ended, say). Audit 55."""
    from datetime import UTC, datetime

    staff = await factory.user(org_a.organization)
    assert error_codes(await gql(REVIVE_VIEWER, token=staff.token)) == []
    if undo == "new expiry":
        await _expire_user(staff)
        later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        doc = "mutation($id: ID!, $at: DateTime) { updateUser(input: {id: $id, expiresAt: $at}) { errors { code } } }"
        body = await gql(doc, {"id": str(staff.user.id), "at": later}, token=org_a.admin.token)
        name = "updateUser"
    else:
        provider = await _provider_date_passed(staff)
        name = "reactivateProvider" if undo == "reactivate provider" else "cancelProviderDeactivation"
        body = await gql(
            f"mutation($id: ID!) {{ {name}(input: {{id: $id}}) {{ errors {{ code }} }} }}",
            {"id": str(provider.id)},
            token=org_a.admin.token,
        )
    assert body["data"][name]["errors"] == [], body
    assert error_codes(await gql(REVIVE_VIEWER, token=staff.token)) == ["UNAUTHENTICATED"]
    fresh, _ = await factory.session(staff.user)
    assert error_codes(await gql(REVIVE_VIEWER, token=fresh)) == []
