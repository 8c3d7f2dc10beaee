"""Two allowed calls at once cannot combine into a forbidden result (PostgreSQL, real separate
transactions): grant changes of one organization take its row lock first (resolvers/admins.py
`lock_grants`), so the second judges what the first left."""

from __future__ import annotations

import asyncio
from pathlib import Path

from models.groups import GroupMembership
from models.users import User, UserLocation
from permissions.catalog import Permission as P
from tests.factories import Factory
from tests.support import app_client, needs_concurrent_writers, own_database, post_graphql

pytestmark = needs_concurrent_writers

DEACTIVATE = """mutation($id: ID!) { setUserActive(input: {id: $id, active: false}) { errors { code } } }"""
ADD_MEMBER = """mutation($g: ID!, $u: ID!) { updatePermissionGroup(input: {id: $g, addMemberIds: [$u]}) {
  errors { code field } } }"""
MOVE = """mutation($u: ID!, $sites: [ID!]!) { updateUser(input: {id: $u, sites: {locationIds: $sites}}) {
  errors { code field } } }"""


async def _admin_pairs(factory: Factory, label: str, count: int, *, third_admin: bool = False) -> list[tuple]:
    """`count` organizations, each with two admins who can log in (and a third one without a session)."""
    pairs = []
    for n in range(count):
        org = await factory.organization(f"{label}{n}")
        other = await factory.user(org.organization, username="other", is_admin=True, all_locations=True)
        if third_admin:
            await factory.user(org.organization, username="third", is_admin=True, all_locations=True, session=False)
        pairs.append((org.admin, other))
    return pairs


async def test_two_admins_deactivating_each_other_leave_one(tmp_path: Path, settings) -> None:
    async with own_database(tmp_path, "adminrace") as database:
        pairs = await _admin_pairs(Factory(), "adminrace", 4)
        async with app_client(settings, database, ip="203.0.113.23") as http:

            async def deactivate(actor, target) -> list:
                body = await post_graphql(http, DEACTIVATE, {"id": str(target.user.id)}, actor.token)
                if body.get("errors"):  # the loser was deactivated while it waited: it may not act
                    return [e["extensions"]["code"] for e in body["errors"]]
                return [e["code"] for e in body["data"]["setUserActive"]["errors"]]

            results = await asyncio.gather(*(deactivate(a, b) for a, b in pairs), *(deactivate(b, a) for a, b in pairs))
        for n, (a, b) in enumerate(pairs):
            outcomes = sorted([results[n], results[n + len(pairs)]])
            assert outcomes in ([[], ["FORBIDDEN"]], [[], ["LAST_ADMIN"]]), results
            active = await User.filter(id__in=[a.user.id, b.user.id], is_active=True).count()
            assert active == 1


async def test_group_membership_racing_a_site_move_gives_nothing_neither_holds(tmp_path: Path, settings) -> None:
    """X may add U (at L1) to a group granting CLIENTS_READ everywhere: U would hold it at L1, as X
    does. Y may move U to L1+L2: without the group that adds nothing. Both at once would give U
    CLIENTS_READ at L2, which neither holds; serialized, the second is refused."""
    async with own_database(tmp_path, "grantrace") as database:
        factory = Factory()
        org = await factory.organization("grantrace")
        l1, l2 = org.locations
        readers = await factory.group(org.organization, [P.CLIENTS_READ], name="Readers")
        x_group = await factory.group(org.organization, [P.GROUPS_MANAGE, P.USERS_READ, P.CLIENTS_READ])
        x = await factory.user(org.organization, username="x", locations=[l1], groups=[x_group])
        y_group = await factory.group(org.organization, [P.USERS_READ, P.USERS_MANAGE])
        y = await factory.user(org.organization, username="y", locations=[l1, l2], groups=[y_group])
        targets = [await factory.user(org.organization, locations=[l1], session=False) for _ in range(4)]
        async with app_client(settings, database, ip="203.0.113.24") as http:

            async def call(query: str, variables: dict, token: str, name: str) -> list:
                body = await post_graphql(http, query, variables, token)
                return [e["code"] for e in body["data"][name]["errors"]]

            results = await asyncio.gather(
                *(
                    call(ADD_MEMBER, {"g": str(readers.id), "u": str(t.user.id)}, x.token, "updatePermissionGroup")
                    for t in targets
                ),
                *(
                    call(MOVE, {"u": str(t.user.id), "sites": [str(l1.id), str(l2.id)]}, y.token, "updateUser")
                    for t in targets
                ),
            )
        for n, target in enumerate(targets):
            member = await GroupMembership.filter(group_id=readers.id, user_id=target.user.id).exists()
            at_l2 = await UserLocation.filter(user_id=target.user.id, location_id=l2.id).exists()
            assert not (member and at_l2), (n, results)
            assert sorted([results[n], results[n + len(targets)]]) == [[], ["FORBIDDEN"]], results


async def test_two_admins_demoting_each_other_beside_a_third_leave_one_admin(tmp_path: Path, settings) -> None:
    """Each call is allowed alone (a third admin remains), but the second to run has lost its own
    admin access meanwhile: judged under the lock as it now stands, it is refused."""
    demote = """mutation($id: ID!) { updateUser(input: {id: $id, isAdmin: false}) { errors { code } } }"""
    async with own_database(tmp_path, "demoterace") as database:
        pairs = await _admin_pairs(Factory(), "demoterace", 3, third_admin=True)
        async with app_client(settings, database, ip="203.0.113.25") as http:

            async def call(actor, target) -> dict:
                return await post_graphql(http, demote, {"id": str(target.user.id)}, actor.token)

            results = await asyncio.gather(*(call(a, b) for a, b in pairs), *(call(b, a) for a, b in pairs))
        for n, (a, b) in enumerate(pairs):
            admins = await User.filter(id__in=[a.user.id, b.user.id], is_admin=True).count()
            assert admins == 1, (results[n], results[n + len(pairs)])
