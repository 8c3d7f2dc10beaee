"""Matrix rows for the client portal: invitations (staff side), portal links, portal login, and the
portal account as a principal of its own.

The world gains (`add_portal`, on the clients domain's clients): a parent's portal account linked to
herself (a client at A1) and to her son (at A1, provider_a1's patient), while the client at A2 and
org B's have no link; one pending invitation for the son, the A2 client and B's client; and
`portal_a2_only`, a staff user who reads clients everywhere but manages portal access only at A2
(the cross-site case: seeing a client is not managing its portal access).

Every root field a portal account may not call gets a row for it here (`PORTAL_REFUSED`), read
from the schema: a new staff field is refused to portal accounts without anyone writing a row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models.enums import ProxyRelationship
from models.portal import ClientInvitation
from permissions.catalog import Permission as P
from resolvers.credentials import LINK_TOKEN_PREFIX, new_token, token_hash
from tests.factories import PASSWORD, Factory
from tests.permissions.cases.auth import login
from tests.permissions.cases.base import Case, fixed, no_token, rows
from tests.permissions.cases.expect import DENIED_INPUT, FORBIDDEN, HIDDEN, INVITATION_INVALID, NOT_FOUND, OK
from tests.permissions.cases.users import ACCEPT as STAFF_ACCEPT
from tests.permissions.world import World, WorldStep

PORTAL = "portal_parent"


async def add_portal(world: World, factory: Factory) -> None:
    a = world.a.organization
    shared = world.extra["clients"]  # the clients domain's: no list of theirs gains a row
    mother, son, other, foreign = shared["a1"], shared["a1_own"], shared["a2"], shared["b1"]
    for client, email in ((mother, "maya@example.org"), (other, "cleo@example.org"), (foreign, "bram@example.org")):
        client.email = email
        await client.save(update_fields=["email"])
    world.extra["portal_clients"] = {"mother": mother, "son": son, "a2": other, "b1": foreign}
    world.principals[PORTAL] = await factory.portal_account(
        a, "maya@example.org", [(mother, ProxyRelationship.SELF), (son, ProxyRelationship.PARENT)]
    )
    invitations, tokens = {}, {}
    for name, client in (("son", son), ("a2", other), ("b1", foreign)):
        tokens[name] = new_token(LINK_TOKEN_PREFIX)
        invitations[name] = await ClientInvitation.create(
            organization_id=client.organization_id,
            client=client,
            email=f"guardian-{name}@example.org",
            relationship=ProxyRelationship.GUARDIAN,
            token_hash=token_hash(tokens[name]),
            expires_at=datetime.now(UTC) + timedelta(days=3),
        )
    world.extra["invitations"] = invitations
    world.extra["invitation_tokens"] = tokens
    reads = await factory.group(a, [P.CLIENTS_READ], name="Read clients")
    manage_a2 = await factory.group(a, [P.CLIENT_PORTAL_MANAGE], name="Portal A2", locations=[world.a2])
    world.principals["portal_a2_only"] = await factory.user(
        a, username="portala2", locations=[world.a1, world.a2], groups=[reads, manage_a2]
    )


WORLD = (
    WorldStep(
        add_portal,
        adds=(PORTAL, "portal_a2_only", "portal_clients", "invitations", "invitation_tokens"),
        needs=("clients",),
    ),
)


def pcid(w: World, name: str) -> str:
    return str(w.extra["portal_clients"][name].id)


def inv(w: World, name: str) -> str:
    return str(w.extra["invitations"][name].id)


INVITATIONS = "query($c: ID) { clientInvitations(clientId: $c) { totalCount edges { node { id email status } } } }"
INVITE = (
    "mutation($i: InviteClientUserInput!) { inviteClientUser(input: $i) { invitation { id } link "
    "errors { field code } } }"
)
BULK = "mutation($ids: [ID!]!) { bulkInviteClients(input: {clientIds: $ids}) { invitations { id } errors { code } } }"
RESEND = "mutation($id: ID!) { resendClientInvitation(input: {id: $id, send: false}) { link errors { code } } }"
REVOKE = "mutation($id: ID!) { revokeClientInvitation(input: {id: $id}) { invitation { status } errors { code } } }"
REMOVE = "mutation($c: ID!, $a: ID!) { removePortalLink(input: {clientId: $c, accountId: $a}) { ok errors { code } } }"
PORTAL_LOGIN = (
    'mutation($e: String!, $p: String!) { portalLogin(input: {organizationSlug: "clinic-a", email: $e, '
    "password: $p}) { token errors { code } } }"
)
ACCEPT = (
    "mutation($t: String!) { acceptClientInvitation(input: {token: $t, newAccount: {password: "
    '"a-long-enough-passphrase"}}) { token link { relationship } errors { code } } }'
)
ACCEPT_AS_ME = (
    "mutation($t: String!) { acceptClientInvitation(input: {token: $t}) { link { relationship } errors { code } } }"
)
CLIENT = "query($id: ID!) { client(id: $id) { id firstName dateOfBirth } }"
VIEWER = "{ viewer { kind user { id } portalAccount { email links { relationship client { firstName } } } } }"


def invitations_of(name: str | None):
    return lambda w: (INVITATIONS, {"c": pcid(w, name) if name else None})


def invite(name: str):
    return lambda w: (INVITE, {"i": {"clientId": pcid(w, name), "email": "grandma@example.org", "send": False}})


def bulk(*names: str):
    return lambda w: (BULK, {"ids": [pcid(w, n) for n in names]})


def on_invitation(document: str, name: str):
    return lambda w: (document, {"id": inv(w, name)})


def remove(name: str):
    def build(w: World) -> tuple[str, dict[str, Any]]:
        account = w.principals[PORTAL].account  # type: ignore[union-attr]
        return REMOVE, {"c": pcid(w, name), "a": str(account.id)}

    return build


def accept(name: str, document: str = ACCEPT):
    return lambda w: (document, {"t": w.extra["invitation_tokens"][name]})


def client(name: str):
    return lambda w: (CLIENT, {"id": pcid(w, name)})


def emails(*names: str):
    def check(w: World, data: Any) -> None:
        shown = sorted(e["node"]["email"] for e in data["edges"])
        assert shown == sorted(f"guardian-{n}@example.org" for n in names), data

    return check


def sees_her_links(w: World, data: Any) -> None:
    assert data["kind"] == "PORTAL_ACCOUNT" and data["user"] is None, data
    links = sorted((link["relationship"], link["client"]["firstName"]) for link in data["portalAccount"]["links"])
    assert links == [("PARENT", "Owen"), ("SELF", "Alma")], data


def one_invited(w: World, data: Any) -> None:
    assert len(data["invitations"]) == 1, data


CASES: list[Case] = [
    *rows(
        "clientInvitations",
        ("admin sees A's", "admin_a", "org A", OK, invitations_of(None), emails("son", "a2")),
        ("front desk at A1", "front_desk_a1", "A1", OK, invitations_of(None), emails("son")),
        ("managing at A2 only", "portal_a2_only", "A2", OK, invitations_of(None), emails("a2")),
        ("other org's client", "admin_b", "A1 client", HIDDEN, invitations_of("son")),
        ("no CLIENT_PORTAL_MANAGE", "manager_a1", "org A", FORBIDDEN, invitations_of(None)),
        ("portal account", PORTAL, "org A", FORBIDDEN, invitations_of("son")),
        no_token("org A", invitations_of(None)),
    ),
    *rows(
        "inviteClientUser",
        ("admin", "admin_a", "A1 client", OK, invite("son")),
        ("front desk at A1", "front_desk_a1", "A1 client", OK, invite("son")),
        ("front desk, A2 client", "front_desk_a1", "A2 client", NOT_FOUND, invite("a2")),
        ("manages A2 only, A1 client", "portal_a2_only", "A1 client", DENIED_INPUT, invite("son")),
        ("manages A2 only, A2 client", "portal_a2_only", "A2 client", OK, invite("a2")),
        ("other organization", "admin_b", "A1 client", NOT_FOUND, invite("son")),
        ("no CLIENT_PORTAL_MANAGE", "billing_a1", "A1 client", FORBIDDEN, invite("son")),
        ("portal account", PORTAL, "own son", FORBIDDEN, invite("son")),
        no_token("A1 client", invite("son")),
    ),
    *rows(
        "bulkInviteClients",
        ("admin", "admin_a", "A2 client", OK, bulk("a2"), one_invited),
        ("manages A2 only", "portal_a2_only", "A2 client", OK, bulk("a2"), one_invited),
        ("manages A2 only, A1 client", "portal_a2_only", "A1 client", DENIED_INPUT, bulk("mother")),
        ("no CLIENT_PORTAL_MANAGE", "manager_a1", "A1 client", FORBIDDEN, bulk("mother")),
        ("portal account", PORTAL, "herself", FORBIDDEN, bulk("mother")),
        no_token("A1 client", bulk("mother")),
    ),
    *rows(
        "resendClientInvitation",
        ("front desk at A1", "front_desk_a1", "A1 invitation", OK, on_invitation(RESEND, "son")),
        ("front desk, A2 invitation", "front_desk_a1", "A2 invitation", NOT_FOUND, on_invitation(RESEND, "a2")),
        ("manages A2 only, A1", "portal_a2_only", "A1 invitation", NOT_FOUND, on_invitation(RESEND, "son")),
        ("other organization", "admin_b", "A1 invitation", NOT_FOUND, on_invitation(RESEND, "son")),
        ("no CLIENT_PORTAL_MANAGE", "manager_a1", "A1 invitation", FORBIDDEN, on_invitation(RESEND, "son")),
        ("portal account", PORTAL, "son's invitation", FORBIDDEN, on_invitation(RESEND, "son")),
        no_token("A1 invitation", on_invitation(RESEND, "son")),
    ),
    *rows(
        "revokeClientInvitation",
        ("admin", "admin_a", "A2 invitation", OK, on_invitation(REVOKE, "a2")),
        ("front desk, A2 invitation", "front_desk_a1", "A2 invitation", NOT_FOUND, on_invitation(REVOKE, "a2")),
        ("other organization", "admin_a", "B1 invitation", NOT_FOUND, on_invitation(REVOKE, "b1")),
        ("no CLIENT_PORTAL_MANAGE", "restricted_a2", "A2 invitation", FORBIDDEN, on_invitation(REVOKE, "a2")),
        ("portal account", PORTAL, "son's invitation", FORBIDDEN, on_invitation(REVOKE, "son")),
        no_token("A2 invitation", on_invitation(REVOKE, "a2")),
    ),
    *rows(
        "removePortalLink",
        ("front desk at A1", "front_desk_a1", "son's link", OK, remove("son")),
        ("manages A2 only", "portal_a2_only", "son's link", DENIED_INPUT, remove("son")),
        ("other organization", "admin_b", "son's link", NOT_FOUND, remove("son")),
        ("no link there", "admin_a", "A2 client", NOT_FOUND, remove("a2")),
        ("no CLIENT_PORTAL_MANAGE", "manager_a1", "son's link", FORBIDDEN, remove("son")),
        ("portal account", PORTAL, "own link", FORBIDDEN, remove("son")),
        no_token("son's link", remove("son")),
    ),
    *rows(
        "portalLogin",
        ("right password", "anonymous", "maya", OK, fixed(PORTAL_LOGIN, e="MAYA@example.org", p=PASSWORD)),
        ("with a staff session", "admin_a", "maya", OK, fixed(PORTAL_LOGIN, e="maya@example.org", p=PASSWORD)),
        ("again, as herself", PORTAL, "maya", OK, fixed(PORTAL_LOGIN, e="maya@example.org", p=PASSWORD)),
    ),
    # The staff public fields answer a portal session as they answer anyone: by their credentials.
    *rows("login", ("portal session", PORTAL, "admin of A", OK, login("clinic-a", "admin"))),
    *rows(
        "acceptStaffInvitation",
        ("portal session, no link", PORTAL, "nothing", INVITATION_INVALID, fixed(STAFF_ACCEPT, t="tsl_x", p="p" * 12)),
    ),
    *rows(
        "acceptClientInvitation",
        ("new account", "anonymous", "son's invitation", OK, accept("son")),
        ("unknown token", "anonymous", "nothing", INVITATION_INVALID, fixed(ACCEPT, t="tsl_unknown")),
        # A link that reached the wrong person links nothing to that person's account.
        ("another email's", PORTAL, "son's invitation", INVITATION_INVALID, accept("son", ACCEPT_AS_ME)),
    ),
    *rows(
        "client",
        ("her son", PORTAL, "linked client", OK, client("son")),
        ("herself", PORTAL, "linked client", OK, client("mother")),
        ("a client not linked", PORTAL, "A2 client", HIDDEN, client("a2")),
        ("another organization's", PORTAL, "B1 client", HIDDEN, client("b1")),
    ),
    *rows("viewer", ("portal account", PORTAL, "itself", OK, fixed(VIEWER), sees_her_links)),
    *rows("logout", ("portal session", PORTAL, "itself", OK, fixed("mutation { logout { ok errors { code } } }"))),
]


# Root fields a portal account may call (`requires(..., portal=True)` or `public(...)`): their rows
# are written above. Every other field is refused to it, with the first document of its rows.
def portal_refused_rows(cases: list[Case], portal_fields: set[str]) -> list[Case]:
    """One FORBIDDEN row for the portal account on every root field it may not call, reusing the
    document of the field's first row (aimed at org A's rows, where the account lives)."""
    written = {c.operation for c in cases if c.principal == PORTAL}
    first: dict[str, Case] = {}
    for case in cases:
        first.setdefault(case.operation, case)
    return [
        Case("staff-only field", op, PORTAL, case.target, FORBIDDEN, case.document)
        for op, case in sorted(first.items())
        if op not in portal_fields and op not in written
    ]
