"""Matrix rows for partner integrations and API tokens, and the API token as a principal.

The world gains (`add_integrations`): "Partner A1", an integration of org A holding CLIENTS_READ and
USERS_READ at A1, whose token is the principal `token_a1`; "Partner B", one of org B; and
`integrations_manager_a1`, who holds INTEGRATIONS_MANAGE (org-wide) but CLIENTS_READ at A1 only
(an integration it makes may hold no more). Every root field an API token may not call gets a
refused row for `token_a1`, generated from the schema (`token_rows`).
"""

from __future__ import annotations

from typing import Any

from permissions.catalog import ORG_WIDE
from permissions.catalog import Permission as P
from permissions.grants import Grants
from tests.factories import Factory
from tests.permissions.cases.base import Case, fixed, location_id, no_token, rows
from tests.permissions.cases.expect import DENIED_INPUT, FORBIDDEN, HIDDEN, NOT_FOUND, OK
from tests.permissions.world import World, WorldStep

TOKEN = "token_a1"
TOKEN_PERMISSIONS = (P.CLIENTS_READ, P.USERS_READ)


async def add_integrations(world: World, factory: Factory) -> None:
    a = world.a.organization
    world.principals[TOKEN] = await factory.integration(a, TOKEN_PERMISSIONS, [world.a1], name="Partner A1")
    world.extra["partner_b"] = await factory.integration(world.b.organization, [P.CLIENTS_READ], name="Partner B")
    manage = await factory.group(a, [P.INTEGRATIONS_MANAGE], name="Integration managers")
    reads = await factory.group(a, [P.CLIENTS_READ], name="Client readers at A1", locations=[world.a1])
    world.extra["integration_group"] = manage
    world.principals["integrations_manager_a1"] = await factory.user(
        a, username="integrations", locations=[world.a1, world.a2], groups=[manage, reads]
    )


WORLD = (
    WorldStep(
        add_integrations, adds=(TOKEN, "partner_b", "integration_group", "integrations_manager_a1"), needs=("clients",)
    ),
)


def own(w: World) -> str:
    return str(w.principals[TOKEN].integration.id)  # type: ignore[union-attr]


def other(w: World) -> str:
    return str(w.extra["partner_b"].integration.id)


LIST = "{ integrations { name permissions allLocations locations { name } tokens { prefix } } }"
ONE = "query($id: ID!) { integration(id: $id) { name } }"
CREATE = """mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) {
  integration { id permissions } errors { field code } } }"""
UPDATE = """mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) {
  integration { name } errors { field code } } }"""
NEW_TOKEN = """mutation($id: ID!) { createApiToken(input: {integrationId: $id, name: "sync"}) {
  secret apiToken { prefix expiresAt } errors { field code } } }"""
REVOKE = "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { ok errors { code } } }"
VIEWER = "{ viewer { kind user { id } integration { name } permissions { permission } } }"
CLIENTS = "{ clients { edges { node { id location { id } } } } }"


def one(which: Any):
    return lambda w: (ONE, {"id": which(w)})


def create(permissions: list[str], *, at: str | None = "a1", everywhere: bool = False):
    def build(w: World) -> tuple[str, dict[str, Any]]:
        given: dict[str, Any] = {"name": "New partner", "permissions": permissions, "allLocations": everywhere}
        if at:
            given["locationIds"] = [location_id(w, at)]
        return CREATE, {"i": given}

    return build


def update(which: Any, **changes: Any):
    def build(w: World) -> tuple[str, dict[str, Any]]:
        given = dict(changes)
        if "locationIds" in given:
            given["locationIds"] = [location_id(w, name) for name in given["locationIds"]]
        return UPDATE, {"i": {"id": which(w), **given}}

    return build


def token_of(which: Any):
    return lambda w: (NEW_TOKEN, {"id": which(w)})


def revoke(which: str):
    def build(w: World) -> tuple[str, dict[str, Any]]:
        partner = w.principals[TOKEN] if which == "own" else w.extra["partner_b"]
        return REVOKE, {"id": str(partner.api_token.id)}  # type: ignore[union-attr]

    return build


USERS = "{ users(first: 100) { edges { node { username } } } }"
LOCATIONS = "{ locations { id } }"
GROUPS = "{ permissionGroups { id } }"


def client(name: str):
    return lambda w: ("query($id: ID!) { client(id: $id) { id } }", {"id": str(w.extra["clients"][name].id)})


def user(who: str):
    return lambda w: ("query($id: ID!) { user(id: $id) { id } }", {"id": str(w.principals[who].user.id)})


def location(name: str):
    return lambda w: ("query($id: ID!) { location(id: $id) { id } }", {"id": location_id(w, name)})


def group(w: World) -> tuple[str, dict[str, Any]]:
    return ("query($id: ID!) { permissionGroup(id: $id) { id } }", {"id": str(w.extra["integration_group"].id)})


def sites(*names: str):
    def check(w: World, data: Any) -> None:
        assert sorted(loc["id"] for loc in data) == sorted(location_id(w, n) for n in names), data

    return check


def at_a1(w: World, data: Any) -> None:
    seen = {e["node"]["username"] for e in data["edges"]}
    assert {"frontdesk", "provider", "billing"} <= seen, seen


def names(*expected: str):
    def check(w: World, data: Any) -> None:
        assert sorted(i["name"] for i in data) == sorted(expected), data

    return check


def is_the_integration(w: World, data: Any) -> None:
    assert data["kind"] == "INTEGRATION" and data["user"] is None, data
    assert data["integration"] == {"name": "Partner A1"}, data
    assert sorted(p["permission"] for p in data["permissions"]) == ["CLIENTS_READ", "USERS_READ"], data


def only_a1(w: World, data: Any) -> None:
    assert data["edges"] and {e["node"]["location"]["id"] for e in data["edges"]} == {location_id(w, "a1")}, data


CASES: list[Case] = [
    *rows(
        "integrations",
        ("admin", "admin_a", "org A", OK, fixed(LIST), names("Partner A1")),
        ("other organization", "admin_b", "org B", OK, fixed(LIST), names("Partner B")),
        ("no INTEGRATIONS_MANAGE", "manager_a1", "org A", FORBIDDEN, fixed(LIST)),
        ("an API token", TOKEN, "org A", FORBIDDEN, fixed(LIST)),
        no_token("org A", fixed(LIST)),
    ),
    *rows(
        "integration",
        ("admin", "admin_a", "Partner A1", OK, one(own)),
        ("other organization's", "admin_a", "Partner B", HIDDEN, one(other)),
        ("no INTEGRATIONS_MANAGE", "front_desk_a1", "Partner A1", FORBIDDEN, one(own)),
        no_token("Partner A1", one(own)),
    ),
    *rows(
        "createIntegration",
        ("admin, anything", "admin_a", "org A", OK, create(["CLIENTS_READ", "BILLING_READ"], everywhere=True, at=None)),
        ("within its grants", "integrations_manager_a1", "A1", OK, create(["CLIENTS_READ"])),
        ("a location beyond", "integrations_manager_a1", "A2", DENIED_INPUT, create(["CLIENTS_READ"], at="a2")),
        (
            "everywhere",
            "integrations_manager_a1",
            "all",
            DENIED_INPUT,
            create(["CLIENTS_READ"], at=None, everywhere=True),
        ),
        ("a permission beyond", "integrations_manager_a1", "A1", DENIED_INPUT, create(["USERS_READ"])),
        ("managing integrations", "admin_a", "org A", DENIED_INPUT, create(["INTEGRATIONS_MANAGE"])),
        ("no INTEGRATIONS_MANAGE", "manager_a1", "A1", FORBIDDEN, create(["USERS_READ"])),
        ("an API token", TOKEN, "A1", FORBIDDEN, create(["CLIENTS_READ"])),
        no_token("A1", create(["CLIENTS_READ"])),
    ),
    *rows(
        "updateIntegration",
        ("admin renames", "admin_a", "Partner A1", OK, update(own, name="Partner One")),
        ("widened beyond", "integrations_manager_a1", "Partner A1", DENIED_INPUT, update(own, locationIds=["a2"])),
        ("other organization's", "admin_a", "Partner B", NOT_FOUND, update(other, name="Mine")),
        (
            "an API token, itself",
            TOKEN,
            "Partner A1",
            FORBIDDEN,
            update(own, permissions=["CLIENTS_READ", "USERS_MANAGE"]),
        ),
        no_token("Partner A1", update(own, name="x")),
    ),
    *rows(
        "createApiToken",
        ("admin", "admin_a", "Partner A1", OK, token_of(own)),
        ("handing over more than it holds", "integrations_manager_a1", "Partner A1", DENIED_INPUT, token_of(own)),
        ("other organization's", "admin_a", "Partner B", NOT_FOUND, token_of(other)),
        ("an API token minting one", TOKEN, "Partner A1", FORBIDDEN, token_of(own)),
        no_token("Partner A1", token_of(own)),
    ),
    *rows(
        "revokeApiToken",
        ("admin", "admin_a", "Partner A1's token", OK, revoke("own")),
        ("other organization's", "admin_a", "Partner B's token", NOT_FOUND, revoke("b")),
        ("an API token, its own", TOKEN, "itself", FORBIDDEN, revoke("own")),
        ("no INTEGRATIONS_MANAGE", "front_desk_a1", "Partner A1's token", FORBIDDEN, revoke("own")),
        no_token("Partner A1's token", revoke("own")),
    ),
    # What the token may call: by its permissions, at its locations.
    *rows("viewer", ("an API token", TOKEN, "itself", OK, fixed(VIEWER), is_the_integration)),
    *rows("clients", ("an API token, CLIENTS_READ at A1", TOKEN, "A1 clients", OK, fixed(CLIENTS), only_a1)),
    *rows(
        "client",
        ("an API token, A1 client", TOKEN, "A1 client", OK, client("a1")),
        ("an API token, A2 client", TOKEN, "A2 client", HIDDEN, client("a2")),
        ("an API token, B1 client", TOKEN, "B1 client", HIDDEN, client("b1")),
    ),
    *rows("users", ("an API token, USERS_READ at A1", TOKEN, "A1 staff", OK, fixed(USERS), at_a1)),
    *rows(
        "user",
        ("an API token, A1 user", TOKEN, "front desk", OK, user("front_desk_a1")),
        ("an API token, other organization", TOKEN, "admin of B", HIDDEN, user("admin_b")),
    ),
    *rows("locations", ("an API token", TOKEN, "its sites", OK, fixed(LOCATIONS), sites("a1"))),
    *rows(
        "location",
        ("an API token, its site", TOKEN, "A1", OK, location("a1")),
        ("an API token, not its site", TOKEN, "A2", HIDDEN, location("a2")),
    ),
    *rows("organization", ("an API token", TOKEN, "org A", OK, fixed("{ organization { name } }"))),
    *rows("permissions", ("an API token", TOKEN, "catalogue", OK, fixed("{ permissions { permission } }"))),
    *rows("permissionGroups", ("an API token, no group rights", TOKEN, "groups", FORBIDDEN, fixed(GROUPS))),
    *rows("permissionGroup", ("an API token, no group rights", TOKEN, "a group", FORBIDDEN, group)),
]


# Fields a token may call and whose rows for it are written above or below by hand; every other field
# gets a generated row (`token_rows`).
def token_rows(cases: list[Case], definitions: dict[str, Any]) -> list[Case]:
    """A row for `token_a1` on every root field without one: FORBIDDEN where the field is not for
    tokens or needs a permission the token lacks, and on a public field the answer anyone gets."""
    grants = Grants({p: frozenset({"a1"}) for p in TOKEN_PERMISSIONS})
    written = {c.operation for c in cases if c.principal == TOKEN}
    first: dict[str, Case] = {}
    for case in cases:
        first.setdefault(case.operation, case)
    made = []
    for name, case in sorted(first.items()):
        if name in written:
            continue
        definition = definitions[name]
        if not definition.permission_classes:  # public: as the anonymous caller fares
            anonymous = next((c for c in cases if c.operation == name and c.principal == "anonymous"), case)
            made.append(Case("an API token", name, TOKEN, anonymous.target, anonymous.expected, anonymous.document))
            continue
        access = definition.permission_classes[0]
        held = [grants.has(p) if p in ORG_WIDE else grants.has_anywhere(p) for p in access.permissions]
        allowed = access.tokens and (any(held) if access.any_of else all(held))
        if not allowed:
            made.append(Case("not for this token", name, TOKEN, case.target, FORBIDDEN, case.document))
    return made
