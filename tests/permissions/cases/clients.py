"""Matrix rows for clients: "All Clients", "My Clients", the profile, and create/update/archive.

The world gains four clients (`add_clients`): at A1 with a health card, at A1 whose primary
provider is provider_a1, at A2, and at org B's B1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models.clients import Client
from models.providers import Provider
from permissions.catalog import Permission as P
from tests.factories import Factory, make_client, make_provider
from tests.permissions.cases.base import Case, Row, fixed, location_id, no_token, rows
from tests.permissions.cases.expect import DENIED_INPUT, FORBIDDEN, HIDDEN, NOT_FOUND, OK
from tests.permissions.world import World, WorldStep


async def add_clients(world: World, factory: Factory) -> None:
    a, b = world.a.organization, world.b.organization
    own = world.principals["provider_a1"]
    assert own is not None
    # The providers domain may already have made provider_a1's profile: reuse it (idempotent).
    provider = await Provider.filter(user_id=own.user.id).first() or await make_provider(own.user, "Dr Ada One")
    world.extra["clients"] = {
        "a1": await make_client(
            a, world.a1, "Alma", "Aalto", health_card_province="ON", health_card_number="9876543217"
        ),
        "a1_own": await make_client(a, world.a1, "Owen", "Byrne", provider=provider),
        "a2": await make_client(a, world.a2, "Cleo", "Cruz"),
        "b1": await make_client(b, world.b1, "Bram", "Dekker"),
    }
    # A coverage clerk: coverage at A1 (CLIENTS_COVERAGE_MANAGE), no CLIENTS_MANAGE anywhere.
    clerks = await factory.group(a, COVERAGE_CLERK, name="Coverage clerks A1", locations=[world.a1])
    world.principals["coverage_clerk_a1"] = await factory.user(
        a, username="coverageclerk", locations=[world.a1, world.a2], groups=[clerks]
    )


COVERAGE_CLERK = [P.CLIENTS_READ, P.CLIENTS_COVERAGE_READ, P.CLIENTS_COVERAGE_MANAGE]
WORLD = (WorldStep(add_clients, adds=("clients", "coverage_clerk_a1"), needs=("provider_a1",)),)


def cid(w: World, name: str) -> str:
    return str(w.extra["clients"][name].id)


LIST = "query($f: ClientFilter) { clients(filter: $f) { totalCount edges { node { id lastName } } } }"
LIST_COVERAGE = (
    "query($f: ClientFilter) { clients(filter: $f) { edges { node { id coverage { healthCardNumber } } } } }"
)
MINE = "{ myClients { totalCount edges { node { id lastName } } } }"
ONE = "query($id: ID!) { client(id: $id) { id lastName alert } }"
ONE_COVERAGE = "query($id: ID!) { client(id: $id) { id coverage { healthCardNumber healthCardCheck } } }"
CREATE = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } errors { field code } } }"
UPDATE = "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { id version } errors { field code } } }"
ARCHIVE = "mutation($id: ID!) { archiveClient(input: {id: $id}) { client { id status } errors { field code } } }"
NEW_COVERAGE = {"healthCardProvince": "ON", "healthCardNumber": "9698658215"}
COVERAGE = {"coverage": NEW_COVERAGE}


def clients(filter: dict | None = None, query: str = LIST):
    return lambda w: (query, {"f": filter})


by_card = fixed(LIST_COVERAGE, f={"healthCardNumber": "9876543217"})


def one(name: str, query: str = ONE):
    return lambda w: (query, {"id": cid(w, name)})


def create(location: str = "a1", **extra):
    def build(w: World):
        loc = location_id(w, location)
        return CREATE, {
            "i": {"firstName": "New", "lastName": "Client", "locationId": loc, "smsConsent": False, **extra}
        }

    return build


def update(name: str, move_to: str | None = None, **extra):
    def build(w: World):
        given = {"id": cid(w, name), "firstName": "Changed", **extra}
        if move_to:
            given["locationId"] = location_id(w, move_to)
        return UPDATE, {"i": given}

    return build


def coverage_only(name: str, coverage: dict[str, str] | None = NEW_COVERAGE):
    """updateClient changing only the coverage (CLIENTS_COVERAGE_MANAGE alone); `None` clears it."""
    return lambda w: (UPDATE, {"i": {"id": cid(w, name), "coverage": coverage}})


def archive(name: str):
    return lambda w: (ARCHIVE, {"id": cid(w, name)})


def lists(*names: str):
    """The allowed answer holds exactly these world clients (out-of-scope ones never show)."""

    def check(w: World, data):
        assert sorted(e["node"]["id"] for e in data["edges"]) == sorted(cid(w, n) for n in names), data
        if "totalCount" in data:
            assert data["totalCount"] == len(names)

    return check


def card_shown(w: World, data):
    assert data["coverage"]["healthCardNumber"] == "9876543217"


def card_in_list(w: World, data):
    assert [e["node"]["coverage"]["healthCardNumber"] for e in data["edges"]] == ["9876543217"]


async def unchanged(w: World, data):
    assert (await Client.get(id=cid(w, "a1"))).version == 1


NESTED = "query($id: ID!) { provider(id: $id) { clientCount clients { totalCount edges { node { id } } } } }"


def nested():
    return lambda w: (NESTED, {"id": str(w.extra["clients"]["a1_own"].primary_provider_id)})


def nested_are(*names: str):
    """provider.clientCount, clients.totalCount and the clients listed are exactly these world clients."""

    def check(w: World, data):
        expected = sorted(cid(w, n) for n in names)
        assert sorted(e["node"]["id"] for e in data["clients"]["edges"]) == expected, data
        assert data["clientCount"] == data["clients"]["totalCount"] == len(expected), data

    return check


def clerk(case: str, target: str, expected: str, document: Any) -> Row:
    """A row for coverage_clerk_a1: CLIENTS_COVERAGE_MANAGE at A1, and no CLIENTS_MANAGE anywhere."""
    return (case, "coverage_clerk_a1", target, expected, document)


def reaching(document: Callable[[str], Any], unseen: str, *more: Row) -> list[Row]:
    """client and archiveClient alike: the A1 client from its own location, and the A2 client
    from A1 and the A1 client from org B, both `unseen` (HIDDEN to the query, NOT_FOUND to a mutation).
    `more` stand before the no-token row; `document(name)` aims at a world client."""
    return [
        ("same location", "front_desk_a1", "A1 client", OK, document("a1")),
        ("other location", "front_desk_a1", "A2 client", unseen, document("a2")),
        ("other org", "admin_b", "A1 client", unseen, document("a1")),
        *more,
        no_token("A1 client", document("a1")),
    ]


CASES = [
    # clients ("All Clients": CLIENTS_READ locations)
    *rows(
        "clients",
        ("every location", "admin_a", "org A clients", OK, clients(), lists("a1", "a1_own", "a2")),
        ("own location only", "front_desk_a1", "A1 clients", OK, clients(), lists("a1", "a1_own")),
        ("billing reads A1", "billing_a1", "A1 clients", OK, clients(), lists("a1", "a1_own")),
        ("restricted to A2", "restricted_a2", "A2 clients", OK, clients(), lists("a2")),
        ("other org", "admin_b", "org B clients only", OK, clients(), lists("b1")),
        ("A2 filter from A1", "front_desk_a1", "A2 clients", HIDDEN, clients({"locationId": "__a2__"})),
        ("read own only", "provider_a1", "all clients", FORBIDDEN, clients()),
        ("no group", "no_group", "all clients", FORBIDDEN, clients()),
        no_token("all clients", clients()),
        ("card filter without coverage read", "front_desk_a1", "health card", FORBIDDEN, by_card),
        ("card filter with coverage read", "billing_a1", "health card", OK, by_card, card_in_list),
        ("card filter, other org", "admin_b", "health card of org A", HIDDEN, by_card),
    ),
    # myClients ("My Clients": primary provider is the viewer)
    *rows(
        "myClients",
        ("own clients", "provider_a1", "own client", OK, fixed(MINE), lists("a1_own")),
        ("not a provider", "front_desk_a1", "none", OK, fixed(MINE), lists()),
        ("other org", "admin_b", "none", OK, fixed(MINE), lists()),
        ("no group", "no_group", "-", FORBIDDEN, fixed(MINE)),
        no_token("-", fixed(MINE)),
    ),
    # client(id)
    *rows(
        "client",
        *reaching(
            one,
            HIDDEN,
            ("restricted, own site", "restricted_a2", "A2 client", OK, one("a2")),
            ("restricted, other site", "restricted_a2", "A1 client", HIDDEN, one("a1")),
            ("own client", "provider_a1", "own A1 client", OK, one("a1_own")),
            ("someone else's client", "provider_a1", "A1 client", HIDDEN, one("a1")),
            ("coverage with coverage read", "billing_a1", "A1 card", OK, one("a1", ONE_COVERAGE), card_shown),
            ("no group", "no_group", "A1 client", HIDDEN, one("a1")),
        ),
    ),
    # createClient
    *rows(
        "createClient",
        ("at own location", "front_desk_a1", "A1", OK, create()),
        ("with coverage", "admin_a", "A1", OK, create(**COVERAGE)),
        ("coverage without the right", "front_desk_a1", "A1", DENIED_INPUT, create(**COVERAGE)),
        ("at another location", "front_desk_a1", "A2", NOT_FOUND, create("a2")),
        ("visible site, no manage there", "restricted_a2", "A1", DENIED_INPUT, create()),
        ("restricted, own site", "restricted_a2", "A2", OK, create("a2")),
        ("other org", "admin_b", "A1", NOT_FOUND, create()),
        ("read only", "billing_a1", "A1", FORBIDDEN, create()),
        ("read own only", "provider_a1", "A1", FORBIDDEN, create()),
        no_token("A1", create()),
    ),
    # updateClient
    *rows(
        "updateClient",
        ("same location", "front_desk_a1", "A1 client", OK, update("a1")),
        ("other location", "front_desk_a1", "A2 client", NOT_FOUND, update("a2")),
        ("move to unseen site", "front_desk_a1", "A1 client to A2", NOT_FOUND, update("a1", move_to="a2"), unchanged),
        ("restricted, own site", "restricted_a2", "A2 client", OK, update("a2")),
        ("move to site without manage", "restricted_a2", "A2 client to A1", DENIED_INPUT, update("a2", move_to="a1")),
        ("move with manage at both", "admin_a", "A1 client to A2", OK, update("a1", move_to="a2")),
        ("coverage without the right", "front_desk_a1", "A1 client", DENIED_INPUT, update("a1", **COVERAGE)),
        ("matching version", "front_desk_a1", "A1 client", OK, update("a1", expectedVersion=1)),
        ("other org", "admin_b", "A1 client", NOT_FOUND, update("a1"), unchanged),
        ("read only", "billing_a1", "A1 client", FORBIDDEN, update("a1")),
        ("read own only", "provider_a1", "own client", FORBIDDEN, update("a1_own")),
        # Each field its own permission: coverage CLIENTS_COVERAGE_MANAGE alone, the profile CLIENTS_MANAGE.
        clerk("coverage clerk, coverage only", "A1 client", OK, coverage_only("a1")),
        clerk("coverage clerk, profile field", "A1 client", DENIED_INPUT, update("a1")),
        clerk(
            "coverage clerk, null coverage (no change, still a write)",
            "A1 client",
            DENIED_INPUT,
            coverage_only("a1", None),
        ),
        clerk("coverage clerk, coverage and a profile field", "A1 client", DENIED_INPUT, update("a1", **COVERAGE)),
        clerk("coverage clerk, client at A2", "A2 client", NOT_FOUND, coverage_only("a2")),
        ("manage without coverage, coverage only", "front_desk_a1", "A1 client", DENIED_INPUT, coverage_only("a1")),
        ("coverage read only", "billing_a1", "A1 client", FORBIDDEN, coverage_only("a1")),
        no_token("A1 client", update("a1")),
    ),
    # archiveClient
    *rows(
        "archiveClient",
        *reaching(archive, NOT_FOUND, ("read only", "billing_a1", "A1 client", FORBIDDEN, archive("a1"))),
    ),
    # Nested paths: provider.clientCount and provider.clients never reveal a client the viewer could not
    # fetch with `client(id)` (the provider is provider_a1's profile; its one client is a1_own at A1).
    *rows(
        "provider",
        ("nested, every location", "admin_a", "provider_a1's clients", OK, nested(), nested_are("a1_own")),
        ("nested, CLIENTS_READ", "front_desk_a1", "provider_a1's clients", OK, nested(), nested_are("a1_own")),
        ("nested, billing", "billing_a1", "provider_a1's clients", OK, nested(), nested_are("a1_own")),
        ("nested, read own", "provider_a1", "own clients", OK, nested(), nested_are("a1_own")),
        ("nested, no client right", "manager_a1", "provider_a1's clients", OK, nested(), nested_are()),
        ("nested, other site", "restricted_a2", "provider_a1's clients", HIDDEN, nested()),
        ("nested, other org", "admin_b", "provider_a1's clients", HIDDEN, nested()),
    ),
]

# Placeholders resolved against the world (filters name locations before the world exists).
_PLACEHOLDERS = {"__a2__": lambda w: str(w.a2.id)}


def _resolve(case: Case) -> Case:
    document = case.document

    def build(w: World):
        query, variables = document(w)
        f = (variables or {}).get("f")
        if isinstance(f, dict):
            variables = {**variables, "f": {k: _PLACEHOLDERS[v](w) if v in _PLACEHOLDERS else v for k, v in f.items()}}
        return query, variables

    return Case(case.case, case.operation, case.principal, case.target, case.expected, build, case.check)


CASES = [_resolve(c) for c in CASES]
