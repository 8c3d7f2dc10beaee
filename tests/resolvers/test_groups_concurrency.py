"""Permission groups under concurrent writers on PostgreSQL, in real, separate transactions (a fresh
database, not the rolled-back test transaction): the unique name holds across racing creates, and
racing updates of one group serialize on its row lock, so neither loses the other's change."""

from __future__ import annotations

import asyncio
from pathlib import Path

from models.groups import GroupMembership, PermissionGroup
from permissions.catalog import Permission as P
from tests.factories import Factory
from tests.support import app_client, needs_concurrent_writers, own_database, post_graphql

CREATE = """mutation($input: CreatePermissionGroupInput!) {
  createPermissionGroup(input: $input) { permissionGroup { id } errors { field code } } }"""
UPDATE = """mutation($input: UpdatePermissionGroupInput!) {
  updatePermissionGroup(input: $input) { permissionGroup { id } errors { field code } } }"""


@needs_concurrent_writers
async def test_racing_group_writes(tmp_path: Path, settings) -> None:
    async with own_database(tmp_path, "grouprace") as database:
        factory = Factory()
        org = await factory.organization("grouprace")
        second = await factory.user(org.organization, username="second", is_admin=True, all_locations=True)
        group = await factory.group(org.organization, [P.USERS_READ], name="Shared")
        joiners = [await factory.user(org.organization, locations=org.locations, session=False) for _ in range(4)]
        async with app_client(settings, database, ip="203.0.113.22") as http:

            async def post(query: str, variables: dict, token: str) -> dict:
                return (await post_graphql(http, query, variables, token))["data"]

            tokens = [org.admin.token, second.token, org.admin.token, second.token]
            creates = await asyncio.gather(
                *(
                    post(CREATE, {"input": {"name": name, "permissions": ["USERS_READ"]}}, token)
                    for name, token in zip(
                        ["Night shift", "NIGHT SHIFT", "night shift", "Night Shift"], tokens, strict=True
                    )
                )
            )
            updates = await asyncio.gather(
                *(
                    post(UPDATE, {"input": {"id": str(group.id), "addMemberIds": [str(j.user.id)]}}, token)
                    for j, token in zip(joiners, tokens, strict=True)
                )
            )
        created = [r["createPermissionGroup"] for r in creates]
        assert sum(1 for r in created if not r["errors"]) == 1, created
        duplicates = [r["errors"] for r in created if r["errors"]]
        assert all(e == [{"field": ["input", "name"], "code": "DUPLICATE"}] for e in duplicates), created
        assert await PermissionGroup.filter(organization_id=org.organization.id, name_key="night shift").count() == 1
        assert all(not r["updatePermissionGroup"]["errors"] for r in updates), updates
        assert await GroupMembership.filter(group_id=group.id).count() == 4
        assert (await PermissionGroup.get(id=group.id)).version == 5
