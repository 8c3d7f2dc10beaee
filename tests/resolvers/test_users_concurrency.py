"""Optimistic concurrency on PostgreSQL: two admins saving one user at once with the same
`expectedVersion` run in real, separate transactions (a fresh database, not the rolled-back test
transaction); exactly one wins, the other gets CONFLICT and changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from models.audit import AuditEvent
from models.users import User
from tests.factories import Factory
from tests.support import app_client, needs_concurrent_writers, own_database, post_graphql

UPDATE = """mutation($input: UpdateUserInput!) {
  updateUser(input: $input) { user { version lastName } errors { field code } }
}"""
ENABLE = """mutation($ids: [ID!]!) { enableAccess(input: {userIds: $ids, registrationEmail: SEND_LATER}) {
  users { id } errors { code } } }"""


@needs_concurrent_writers
async def test_two_admins_saving_at_once_exactly_one_wins(tmp_path: Path, settings) -> None:
    async with own_database(tmp_path, "userrace") as database:
        factory = Factory()
        org = await factory.organization("userrace", seat_limit=4)
        second = await factory.user(org.organization, username="second", is_admin=True, all_locations=True)
        target = await factory.user(org.organization, username="target", locations=org.locations)
        from models.enums import AccessStatus

        waiting = [await factory.user(org.organization, access=AccessStatus.NO_ACCESS, session=False) for _ in range(2)]
        async with app_client(settings, database, ip="203.0.113.21") as http:

            async def post(query: str, variables: dict, token: str) -> dict:
                return (await post_graphql(http, query, variables, token))["data"]

            saves = [
                post(
                    UPDATE,
                    {"input": {"id": str(target.user.id), "expectedVersion": 1, "lastName": f"Name{n}"}},
                    token,
                )
                for n, token in enumerate([org.admin.token, second.token, org.admin.token, second.token])
            ]
            results = [r["updateUser"] for r in await asyncio.gather(*saves)]
            # Two seat batches at once against a limit of 4 (3 used): the organization row lock
            # makes them count one after the other, so only one gets the last seat.
            enables = await asyncio.gather(*(post(ENABLE, {"ids": [str(w.user.id)]}, org.admin.token) for w in waiting))
        winners = [r for r in results if not r["errors"]]
        losers = [r for r in results if r["errors"]]
        assert len(winners) == 1, results
        assert all(r["errors"] == [{"field": ["input", "expectedVersion"], "code": "CONFLICT"}] for r in losers)
        row = await User.get(id=target.user.id)
        assert row.version == 2 and row.last_name == winners[0]["user"]["lastName"]
        assert await AuditEvent.filter(action="user.update", target_id=target.user.id).count() == 1
        codes = sorted(tuple(e["code"] for e in r["enableAccess"]["errors"]) for r in enables)
        assert codes == [(), ("SEAT_LIMIT_REACHED",)], enables
