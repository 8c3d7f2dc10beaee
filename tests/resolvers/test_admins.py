"""Never locked out: an admin who cannot log in does not count as the one who remains."""

from __future__ import annotations

from models.enums import ProviderStatus
from models.providers import Provider
from models.users import User
from tests.factories import make_provider

DEMOTE = """mutation($id: ID!) { updateUser(input: {id: $id, isAdmin: false}) { user { isAdmin } errors { code } } }"""


async def test_an_admin_whose_provider_is_deactivated_does_not_count(gql, factory, org_a):
    other = await factory.user(org_a.organization, username="second", is_admin=True, all_locations=True)
    await make_provider(other.user, "Second Admin", status=ProviderStatus.INACTIVE)
    body = await gql(DEMOTE, {"id": str(org_a.admin.user.id)}, token=org_a.admin.token)
    assert [e["code"] for e in body["data"]["updateUser"]["errors"]] == ["LAST_ADMIN"]
    assert (await User.get(id=org_a.admin.user.id)).is_admin

    await Provider.filter(user_id=other.user.id).update(status=ProviderStatus.ACTIVE)
    body = await gql(DEMOTE, {"id": str(org_a.admin.user.id)}, token=org_a.admin.token)
    assert body["data"]["updateUser"] == {"user": {"isAdmin": False}, "errors": []}


async def test_the_grant_lock_judges_the_actor_by_its_sites_as_they_stand_now(settings, factory, org_a):
    """`lock_grants` reads the actor again under the lock: its grants and the sites it sees, so a
    manager moved off a location while its call waited neither holds nor sees that location."""
    from tortoise.transactions import in_transaction

    from models.users import UserLocation
    from permissions.catalog import Permission as P
    from permissions.grants import ALL
    from resolvers.admins import lock_grants
    from resolvers.context import RequestContext
    from resolvers.sessions import authenticate_staff

    l1, l2 = org_a.locations
    managing = await factory.group(org_a.organization, [P.USERS_MANAGE, P.USERS_READ])
    manager = await factory.user(org_a.organization, username="moved", locations=[l1, l2], groups=[managing])
    ctx = RequestContext(settings=settings, request_id="direct", token=manager.token, authenticate=authenticate_staff)
    principal = await ctx.principal()
    assert principal is not None and principal.sites == {str(l1.id), str(l2.id)}

    await UserLocation.filter(user_id=manager.user.id, location_id=l2.id).delete()
    async with in_transaction():
        await lock_grants(principal)
    assert principal.sites == {str(l1.id)}
    assert principal.grants.scope(P.USERS_MANAGE) == {str(l1.id)}

    admin = await RequestContext(
        settings=settings, request_id="direct", token=org_a.admin.token, authenticate=authenticate_staff
    ).principal()
    assert admin is not None
    async with in_transaction():
        await lock_grants(admin)
    assert admin.sites is ALL
