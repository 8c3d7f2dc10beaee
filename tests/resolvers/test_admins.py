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
