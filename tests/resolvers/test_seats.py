"""Seats (article 004, docs/architecture.md "Where the features come from": billed per user who can
log in): a deactivated user frees its seat, and reactivating one with access needs a free seat."""

from __future__ import annotations

from models.enums import AccessStatus, UserType
from models.users import User

ORG = "{ organization { seatLimit seatsUsed } }"
ACTIVE = """mutation($id: ID!, $a: Boolean!) { setUserActive(input: {id: $id, active: $a}) {
  user { isActive } errors { field code } } }"""
ENABLE = """mutation($ids: [ID!]!) { enableAccess(input: {userIds: $ids, registrationEmail: SEND_LATER}) {
  users { id } errors { field code } } }"""
DEACTIVATE_PROVIDER = """mutation($id: ID!) { deactivateProvider(input: {id: $id}) { errors { field code } } }"""
REACTIVATE_PROVIDER = """mutation($id: ID!) { reactivateProvider(input: {id: $id}) { errors { field code } } }"""


async def seats(gql, org) -> int:
    return (await gql(ORG, token=org.admin.token))["data"]["organization"]["seatsUsed"]


async def test_a_deactivated_user_frees_its_seat_and_needs_one_back(gql, factory):
    org = await factory.organization(seat_limit=2)
    kept = await factory.user(org.organization, session=False)
    assert await seats(gql, org) == 2

    body = await gql(ACTIVE, {"id": str(kept.user.id), "a": False}, token=org.admin.token)
    assert body["data"]["setUserActive"]["errors"] == []
    assert await seats(gql, org) == 1, "a deactivated user cannot log in: no seat"

    # Its seat goes to someone else...
    other = await factory.user(org.organization, access=AccessStatus.NO_ACCESS, session=False)
    body = await gql(ENABLE, {"ids": [str(other.user.id)]}, token=org.admin.token)
    assert body["data"]["enableAccess"]["errors"] == []
    assert await seats(gql, org) == 2

    # ...so reactivating the first one would pass the limit: refused, nothing written.
    body = await gql(ACTIVE, {"id": str(kept.user.id), "a": True}, token=org.admin.token)
    assert body["data"]["setUserActive"] == {
        "user": None,
        "errors": [{"field": ["input", "active"], "code": "SEAT_LIMIT_REACHED"}],
    }
    assert not (await User.get(id=kept.user.id)).is_active

    # A user without access takes no seat, active or not.
    plain = await factory.user(org.organization, access=AccessStatus.NO_ACCESS, active=False, session=False)
    body = await gql(ACTIVE, {"id": str(plain.user.id), "a": True}, token=org.admin.token)
    assert body["data"]["setUserActive"]["errors"] == []
    assert await seats(gql, org) == 2


async def test_enabling_access_for_a_deactivated_user_takes_no_seat(gql, factory):
    org = await factory.organization(seat_limit=1)
    inactive = await factory.user(org.organization, access=AccessStatus.NO_ACCESS, active=False, session=False)
    body = await gql(ENABLE, {"ids": [str(inactive.user.id)]}, token=org.admin.token)
    assert body["data"]["enableAccess"]["errors"] == []
    assert await seats(gql, org) == 1
    body = await gql(ACTIVE, {"id": str(inactive.user.id), "a": True}, token=org.admin.token)
    assert [e["code"] for e in body["data"]["setUserActive"]["errors"]] == ["SEAT_LIMIT_REACHED"]


async def test_reactivating_a_provider_with_access_needs_a_free_seat(gql, factory):
    from tests.factories import make_provider

    org = await factory.organization(seat_limit=2)
    staff = await factory.user(org.organization, type=UserType.PROVIDER, session=False)
    provider = await make_provider(staff.user, display_name="Dr Seat")
    body = await gql(DEACTIVATE_PROVIDER, {"id": str(provider.id)}, token=org.admin.token)
    assert body["data"]["deactivateProvider"]["errors"] == []
    assert await seats(gql, org) == 1
    other = await factory.user(org.organization, access=AccessStatus.NO_ACCESS, session=False)
    assert (await gql(ENABLE, {"ids": [str(other.user.id)]}, token=org.admin.token))["data"]["enableAccess"][
        "errors"
    ] == []
    body = await gql(REACTIVATE_PROVIDER, {"id": str(provider.id)}, token=org.admin.token)
    assert [e["code"] for e in body["data"]["reactivateProvider"]["errors"]] == ["SEAT_LIMIT_REACHED"]
    assert not (await User.get(id=staff.user.id)).is_active


async def test_reactivating_a_provider_whose_user_still_holds_its_seat_takes_no_second_one(gql, factory):
    """A deactivation date passed before the job ran: the provider shows INACTIVE, but its user is still
    active with access, so it holds its seat. Reactivating it changes no seat count (audit 53)."""
    from datetime import UTC, datetime, timedelta

    from models.enums import ProviderStatus
    from models.providers import Provider
    from tests.factories import make_provider

    org = await factory.organization(seat_limit=2)
    staff = await factory.user(org.organization, type=UserType.PROVIDER, session=False)
    provider = await make_provider(staff.user, display_name="Dr Seat")
    await Provider.filter(id=provider.id).update(
        status=ProviderStatus.DEACTIVATION_SCHEDULED, deactivate_at=datetime.now(UTC) - timedelta(minutes=5)
    )
    assert (await gql(ORG, token=org.admin.token))["data"]["organization"] == {"seatLimit": 2, "seatsUsed": 2}
    body = await gql(REACTIVATE_PROVIDER, {"id": str(provider.id)}, token=org.admin.token)
    assert body["data"]["reactivateProvider"]["errors"] == [], body
    assert (await gql(ORG, token=org.admin.token))["data"]["organization"] == {"seatLimit": 2, "seatsUsed": 2}
