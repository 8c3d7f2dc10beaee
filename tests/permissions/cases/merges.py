"""Matrix rows for online registrations, duplicate suggestions, merge and unmerge, and portal sign-up.

The world gains (`add_registrations`, on the clients domain's clients): an online registration at A1
that duplicates A1's Alma Aalto, one at A2 and one in org B; a client at A1 already merged into
Alma (with its merge record, so it can be undone); and `merger_a1`, who reads clients at A1 and A2
but holds CLIENTS_MERGE only at A1 (the cross-site case).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from models.clients import Client
from models.enums import ClientSource, ClientStatus
from models.merges import ClientMerge
from permissions.catalog import Permission as P
from tests.factories import PASSWORD, Factory, make_client
from tests.permissions.cases.base import Case, Document, Row, fixed, location_id, no_token, rows
from tests.permissions.cases.expect import DENIED_INPUT, FORBIDDEN, HIDDEN, NOT_FOUND, OK
from tests.permissions.world import World, WorldStep

BORN = date(1979, 5, 17)


async def add_registrations(world: World, factory: Factory) -> None:
    a, b = world.a.organization, world.b.organization
    alma = world.extra["clients"]["a1"]
    alma.date_of_birth = BORN
    await alma.save(update_fields=["date_of_birth"])

    async def registration(org: Any, location: Any, first: str, last: str) -> Client:
        return await make_client(
            org,
            location,
            first,
            last,
            date_of_birth=BORN,
            status=ClientStatus.PENDING_REVIEW,
            source=ClientSource.ONLINE_REGISTRATION,
        )

    merged = await make_client(a, world.a1, "Alma", "Alto", status=ClientStatus.MERGED, merged_into_id=alma.id)
    await ClientMerge.create(
        organization_id=a.id,
        source_id=merged.id,
        target_id=alma.id,
        source_status=ClientStatus.ACTIVE.value,
        merged_at=datetime.now(UTC),
    )
    world.extra["registrations"] = {
        "a1": await registration(a, world.a1, "Alma", "Aalto"),
        "a2": await registration(a, world.a2, "Rui", "Sousa"),
        "b1": await registration(b, world.b1, "Bo", "Berg"),
        "merged": merged,
    }
    reads = await factory.group(a, [P.CLIENTS_READ], name="Read clients (merge)")
    merge_a1 = await factory.group(a, [P.CLIENTS_MERGE], name="Merge at A1", locations=[world.a1])
    world.principals["merger_a1"] = await factory.user(
        a, username="mergera1", locations=[world.a1, world.a2], groups=[reads, merge_a1]
    )


WORLD = (WorldStep(add_registrations, adds=("registrations", "merger_a1"), needs=("clients",)),)


def rid(w: World, name: str) -> str:
    return str(w.extra["registrations"][name].id)


def cid(w: World, name: str) -> str:
    return str(w.extra["clients"][name].id)


REGISTRATIONS = "{ onlineRegistrations { totalCount edges { node { id lastName status } } } }"
DUPLICATES = "query($id: ID!) { clientDuplicates(clientId: $id) { score reasons client { id } } }"
MERGE = """mutation($s: ID!, $t: ID!) { mergeClients(input: {sourceId: $s, targetId: $t}) {
  client { id mergedFrom { id } } errors { field code } } }"""
UNMERGE = "mutation($id: ID!) { unmergeClient(input: {id: $id}) { client { id status } errors { code } } }"
APPROVE = "mutation($id: ID!) { approveRegistration(input: {id: $id}) { client { status } errors { code } } }"
SIGN_UP = """mutation($i: PortalSignUpInput!) { portalSignUp(input: $i) { token account { email } errors { code } } }"""


def duplicates(name: str):
    return lambda w: (DUPLICATES, {"id": rid(w, name)})


def merge(source: str, target: str):
    return lambda w: (MERGE, {"s": rid(w, source), "t": cid(w, target)})


def on(document: str, name: str):
    return lambda w: (document, {"id": rid(w, name)})


def sign_up(email: str):
    def build(w: World) -> tuple[str, dict[str, Any]]:
        return SIGN_UP, {
            "i": {
                "organizationSlug": "clinic-a",
                "email": email,
                "password": PASSWORD,
                "firstName": "Nia",
                "lastName": "Okafor",
                "dateOfBirth": "1990-02-03",
                "locationId": location_id(w, "a1"),
            }
        }

    return build


def registrations(*names: str):
    def check(w: World, data: Any) -> None:
        assert sorted(e["node"]["id"] for e in data["edges"]) == sorted(rid(w, n) for n in names), data
        assert data["totalCount"] == len(names)

    return check


def needs_merge(target: str, document: Document, *more: Row) -> list[Row]:
    """mergeClients, unmergeClient and approveRegistration alike: each changes clients by CLIENTS_MERGE
    at their locations, so the admin may, another organization's admin finds nothing (NOT_FOUND), a
    user without CLIENTS_MERGE is refused, and no token is unauthenticated; `more` are the field's own
    rows (what `merger_a1`, who merges at A1 only, may do)."""
    return [
        ("admin", "admin_a", target, OK, document),
        *more,
        ("other organization", "admin_b", target, NOT_FOUND, document),
        ("no CLIENTS_MERGE", "front_desk_a1", target, FORBIDDEN, document),
        no_token(target, document),
    ]


def suggests_alma(w: World, data: Any) -> None:
    assert [c["client"]["id"] for c in data][:1] == [cid(w, "a1")], data
    assert {"same date of birth", "same name"} <= set(data[0]["reasons"]), data


CASES: list[Case] = [
    *rows(
        "onlineRegistrations",
        ("admin", "admin_a", "org A", OK, fixed(REGISTRATIONS), registrations("a1", "a2")),
        ("merges at A1 only", "merger_a1", "A1", OK, fixed(REGISTRATIONS), registrations("a1")),
        ("other organization", "admin_b", "org B", OK, fixed(REGISTRATIONS), registrations("b1")),
        ("no CLIENTS_MERGE", "front_desk_a1", "A1", FORBIDDEN, fixed(REGISTRATIONS)),
        no_token("org A", fixed(REGISTRATIONS)),
    ),
    *rows(
        "clientDuplicates",
        ("admin", "admin_a", "A1 registration", OK, duplicates("a1"), suggests_alma),
        ("merges at A1", "merger_a1", "A1 registration", OK, duplicates("a1"), suggests_alma),
        ("merges at A1, A2 registration", "merger_a1", "A2 registration", HIDDEN, duplicates("a2")),
        ("other organization", "admin_b", "A1 registration", HIDDEN, duplicates("a1")),
        ("no CLIENTS_MERGE", "front_desk_a1", "A1 registration", FORBIDDEN, duplicates("a1")),
        no_token("A1 registration", duplicates("a1")),
    ),
    *rows(
        "mergeClients",
        *needs_merge(
            "A1 into A1",
            merge("a1", "a1"),
            ("merges at A1", "merger_a1", "A1 into A1", OK, merge("a1", "a1")),
            ("target at A2", "merger_a1", "A1 into A2", DENIED_INPUT, merge("a1", "a2")),
        ),
    ),
    *rows(
        "unmergeClient",
        *needs_merge(
            "merged A1 client",
            on(UNMERGE, "merged"),
            ("merges at A1", "merger_a1", "merged A1 client", OK, on(UNMERGE, "merged")),
        ),
    ),
    *rows(
        "approveRegistration",
        *needs_merge(
            "A2 registration",
            on(APPROVE, "a2"),
            ("merges at A1, A2 registration", "merger_a1", "A2 registration", DENIED_INPUT, on(APPROVE, "a2")),
        ),
    ),
    *rows(
        "portalSignUp",
        ("new email", "anonymous", "A1", OK, sign_up("nia@example.org")),
        ("with a staff session", "front_desk_a1", "A1", OK, sign_up("nia@example.org")),
        ("with a portal session", "portal_parent", "A1", OK, sign_up("nia@example.org")),
    ),
]
