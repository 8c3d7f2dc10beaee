"""Client invitation races on PostgreSQL, in real, separate transactions (a fresh database; the
rolled-back test transaction's single connection cannot serve parallel requests): a burst of wrong
verification codes gets five guesses, and two acceptances of one link link one account."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.portal import ClientInvitation, ClientPortalLink, PortalAccount
from permissions.catalog import Permission as P
from tests.api.test_portal import ACCEPT, INVITE, NEW_PASSWORD, token_of
from tests.factories import Factory, Org, Staff, make_client, staff_with
from tests.support import BACKEND, app_client, own_database, payload_codes, post_graphql

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="needs parallel requests on separate connections and transactions: PostgreSQL only "
    "(the sequential versions are in test_portal.py)",
)


@dataclasses.dataclass
class Race:
    org: Org
    desk: Staff
    client_id: str
    http: httpx.AsyncClient

    async def post(self, query: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        return await post_graphql(self.http, query, variables, token)

    async def invite(self, email: str, **extra: Any) -> dict[str, Any]:
        given = {"clientId": self.client_id, "email": email, "send": False, **extra}  # the link to hand out
        body = await self.post(INVITE, {"i": given}, self.desk.token)
        return body["data"]["inviteClientUser"]

    async def accept(self, **given: Any) -> dict[str, Any]:
        return (await self.post(ACCEPT, {"i": given}))["data"]["acceptClientInvitation"]


@pytest.fixture
async def race(tmp_path: Path, settings) -> AsyncIterator[Race]:
    async with own_database(tmp_path, "portalrace") as database:
        factory = Factory()
        org = await factory.organization("race")
        desk = await staff_with(factory, org, [P.CLIENTS_READ, P.CLIENT_PORTAL_MANAGE], org.locations)
        client = await make_client(org, org.locations[0], "Ines", "Roy")
        async with app_client(settings, database, ip="203.0.113.40") as http:
            yield Race(org, desk, str(client.id), http)


async def test_a_burst_of_wrong_codes_gets_five_guesses(race: Race) -> None:
    issued = await race.invite("ines@example.org", requireVerificationCode=True)
    code = issued["invitation"]["verificationCode"]
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    token = token_of(issued["link"])
    answers = await asyncio.gather(
        *(race.accept(token=token, verificationCode=wrong, newAccount={"password": NEW_PASSWORD}) for _ in range(12))
    )
    judged = [a for a in answers if payload_codes(a) == ["VERIFICATION_CODE_INVALID"]]
    assert len(judged) == 5, answers
    right = await race.accept(token=token, verificationCode=code, newAccount={"password": NEW_PASSWORD})
    assert payload_codes(right) == ["INVITATION_INVALID"]
    assert (await ClientInvitation.get(id=issued["invitation"]["id"])).revoked_at is not None


async def test_two_acceptances_of_one_link_make_one_account_and_one_link(race: Race) -> None:
    issued = await race.invite("ines@example.org")
    token = token_of(issued["link"])
    answers = await asyncio.gather(*(race.accept(token=token, newAccount={"password": NEW_PASSWORD}) for _ in range(4)))
    assert sum(1 for a in answers if a["token"]) == 1, answers
    assert all(payload_codes(a) in ([], ["INVITATION_INVALID"], ["DUPLICATE"]) for a in answers), answers
    assert await PortalAccount.all().count() == 1
    assert await ClientPortalLink.all().count() == 1


async def test_a_right_code_racing_the_fifth_wrong_one_is_refused(race: Race, monkeypatch) -> None:
    """Found in a security review: the fifth failure is counted at once but the void is written after,
    and a right answer never looked at the count, so one sent in between was accepted (in a burst of
    60 parallel guesses, the right date sent 41st got in 2 runs out of 6). Held open here on purpose."""
    import resolvers.invitations as invitations

    counted, release = asyncio.Event(), asyncio.Event()
    real = invitations.write_returning

    async def slow_after_counting(sql: str, params: list[Any]) -> list[dict[str, Any]]:
        rows = await real(sql, params)
        if rows and int(rows[0]["code_failures"]) >= invitations.IDENTITY_FAILURE_LIMIT:
            counted.set()
            await release.wait()  # between counting the fifth failure and writing the void
        return rows

    monkeypatch.setattr(invitations, "write_returning", slow_after_counting)
    issued = await race.invite("ines@example.org", requireVerificationCode=True)
    code = issued["invitation"]["verificationCode"]
    token = token_of(issued["link"])
    wrong = [
        asyncio.create_task(
            race.accept(
                token=token, verificationCode=f"{(int(code) + d) % 10**6:06d}", newAccount={"password": NEW_PASSWORD}
            )
        )
        for d in range(1, 6)
    ]
    await asyncio.wait_for(counted.wait(), 10)
    right = await race.accept(token=token, verificationCode=code, newAccount={"password": NEW_PASSWORD})
    release.set()
    judged = [payload_codes(await task) for task in wrong]
    assert judged == [["VERIFICATION_CODE_INVALID"]] * 5, judged
    assert payload_codes(right) == ["INVITATION_INVALID"] and right["token"] is None, right
    assert await ClientPortalLink.all().count() == 0


async def test_an_acceptance_racing_an_archive_links_nobody_to_the_archived_client(race: Race, monkeypatch) -> None:
    """Found in a security review: acceptance locked the invitation but read the client unlocked, so
    one racing an archive linked an account to the client being archived (archiving revokes pending
    invitations, not one accepted meanwhile). Held open here between the archive and its revoking."""
    import resolvers.invitations as invitations

    paused, release = asyncio.Event(), asyncio.Event()
    real = invitations.revoke_pending

    async def slow_revoke(client_id: Any, now: Any) -> Any:
        paused.set()
        await release.wait()  # the client is archived (uncommitted), its invitations not revoked yet
        return await real(client_id, now)

    monkeypatch.setattr(invitations, "revoke_pending", slow_revoke)
    issued = await race.invite("ines@example.org")
    archive = "mutation($id: ID!) { archiveClient(input: {id: $id}) { errors { code } } }"
    archiving = asyncio.create_task(race.post(archive, {"id": race.client_id}, race.org.admin.token))
    await asyncio.wait_for(paused.wait(), 10)
    accepting = asyncio.create_task(race.accept(token=token_of(issued["link"]), newAccount={"password": NEW_PASSWORD}))
    await asyncio.sleep(0.5)  # long enough for an unlocked acceptance to finish first
    release.set()
    assert payload_codes((await archiving)["data"]["archiveClient"]) == []
    accepted = await accepting
    assert payload_codes(accepted) == ["INVITATION_INVALID"] and accepted["token"] is None, accepted
    assert await ClientPortalLink.all().count() == 0
