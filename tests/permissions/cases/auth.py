"""Matrix rows for authentication, the viewer and the catalogue."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import PASSWORD, PIN, Factory, Staff
from tests.permissions.cases.base import Case, fixed
from tests.permissions.cases.expect import NOT_FOUND, OK, RESET_REQUIRED, UNAUTHENTICATED
from tests.permissions.world import World, WorldStep


async def add_auth_principals(world: World, factory: Factory) -> None:
    """`reset_a1`: a front-desk user at A1 who must change the password first (docs/architecture.md "Principals and
    grants");
    `locked_a1`: a second session of the front-desk user, idle for 31 minutes (docs/architecture.md
    "Authentication")."""
    a = world.a.organization
    front_desk = world.principals["front_desk_a1"]
    assert front_desk is not None
    world.principals["reset_a1"] = await factory.user(
        a, username="mustreset", locations=[world.a1], password_reset_required=True
    )
    token, session = await factory.session(front_desk.user, idle_for=timedelta(minutes=31))
    world.principals["locked_a1"] = Staff(front_desk.user, token, session)


WORLD = (WorldStep(add_auth_principals, adds=("reset_a1", "locked_a1"), needs=("front_desk_a1",)),)


VIEWER = fixed("{ viewer { kind user { username } organization { slug } } }")
ORGANIZATION = fixed("{ organization { id slug seatsUsed } }")
CATALOGUE = fixed("{ permissions { permission orgWide } }")
MY_SESSIONS = fixed("{ mySessions { id current } }")
LOGOUT = fixed("mutation { logout { ok errors { code } } }")
UNLOCK = fixed("mutation($pin: String!) { unlockWithPin(input: {pin: $pin}) { ok errors { code } } }", pin=PIN)


def login(slug: str, username: str):
    return fixed(
        "mutation($s: String!, $u: String!, $p: String!) { login(input: {organizationSlug: $s, username: $u,"
        " password: $p}) { token errors { code } } }",
        s=slug,
        u=username,
        p=PASSWORD,
    )


def change_password():
    return fixed(
        "mutation($c: String!, $n: String!) { changePassword(input: {currentPassword: $c, newPassword: $n}) {"
        " ok errors { code } } }",
        c=PASSWORD,
        n="a-brand-new-passphrase-77",
    )


def revoke_session(owner: str):
    def build(w):
        return (
            "mutation($id: ID!) { revokeSession(id: $id) { ok errors { code } } }",
            {"id": str(w.principals[owner].session.id)},
        )

    return build


def only_own_session(principal: str):
    def check(w, data):
        assert [s["id"] for s in data] == [str(w.principals[principal].session.id)]
        assert data[0]["current"] is True

    return check


def org_is(slug):
    def check(w, data):
        assert data["slug"] == slug

    return check


CASES = [
    Case("own viewer", "viewer", "admin_a", "self", OK, VIEWER),
    Case("viewer without a group", "viewer", "no_group", "self", OK, VIEWER),
    Case("no token", "viewer", "anonymous", "self", UNAUTHENTICATED, VIEWER),
    Case("own organization", "organization", "front_desk_a1", "org A", OK, ORGANIZATION, org_is("clinic-a")),
    Case("other admin sees only own org", "organization", "admin_b", "org B", OK, ORGANIZATION, org_is("clinic-b")),
    Case("no token", "organization", "anonymous", "org A", UNAUTHENTICATED, ORGANIZATION),
    Case("catalogue", "permissions", "no_group", "catalogue", OK, CATALOGUE),
    Case("no token", "permissions", "anonymous", "catalogue", UNAUTHENTICATED, CATALOGUE),
    Case("own sessions", "mySessions", "manager_a1", "self", OK, MY_SESSIONS),
    Case("no token", "mySessions", "anonymous", "self", UNAUTHENTICATED, MY_SESSIONS),
    Case("right password", "login", "anonymous", "admin of A", OK, login("clinic-a", "admin")),
    Case("logout", "logout", "front_desk_a1", "own session", OK, LOGOUT),
    Case("no token", "logout", "anonymous", "-", UNAUTHENTICATED, LOGOUT),
    Case("change own password", "changePassword", "manager_a1", "self", OK, change_password()),
    Case("no token", "changePassword", "anonymous", "-", UNAUTHENTICATED, change_password()),
    Case("unlock own session", "unlockWithPin", "front_desk_a1", "own session", OK, UNLOCK),
    Case("no token", "unlockWithPin", "anonymous", "-", UNAUTHENTICATED, UNLOCK),
    Case("own session", "revokeSession", "manager_a1", "own session", OK, revoke_session("manager_a1")),
    Case(
        "another user's session",
        "revokeSession",
        "front_desk_a1",
        "manager's session",
        NOT_FOUND,
        revoke_session("manager_a1"),
    ),
    Case(
        "another org's session", "revokeSession", "admin_b", "admin A's session", NOT_FOUND, revoke_session("admin_a")
    ),
    Case("no token", "revokeSession", "anonymous", "-", UNAUTHENTICATED, revoke_session("admin_a")),
    # Other organizations: only their own.
    Case("right password in B", "login", "anonymous", "admin of B", OK, login("clinic-b", "admin")),
    Case("other org's catalogue", "permissions", "admin_b", "catalogue", OK, CATALOGUE),
    Case("other org sees only own", "mySessions", "admin_b", "self", OK, MY_SESSIONS, only_own_session("admin_b")),
    Case("other org's own session", "revokeSession", "admin_b", "own session", OK, revoke_session("admin_b")),
    Case("change own password in B", "changePassword", "admin_b", "self", OK, change_password()),
    # Gated sessions (the rest in GATED below): revoking its own session, and unlocking a locked one.
    Case("reset required", "revokeSession", "reset_a1", "own session", RESET_REQUIRED, revoke_session("reset_a1")),
    Case("locked", "revokeSession", "locked_a1", "own session", UNAUTHENTICATED, revoke_session("locked_a1")),
    Case("locked", "unlockWithPin", "locked_a1", "own session", OK, UNLOCK),
]

# Gated sessions, field by field: a forced password reset (reset_a1) admits only changePassword, logout and
# viewer; an idle-locked session (locked_a1) only unlockWithPin and logout.
# (operation, target, document, reset_a1 gets, locked_a1 gets)
GATED = [
    ("viewer", "self", VIEWER, OK, UNAUTHENTICATED),
    ("organization", "org A", ORGANIZATION, RESET_REQUIRED, UNAUTHENTICATED),
    ("permissions", "catalogue", CATALOGUE, RESET_REQUIRED, UNAUTHENTICATED),
    ("mySessions", "self", MY_SESSIONS, RESET_REQUIRED, UNAUTHENTICATED),
    ("changePassword", "self", change_password(), OK, UNAUTHENTICATED),
    ("logout", "own session", LOGOUT, OK, OK),
]
CASES += [Case("reset required", op, "reset_a1", target, reset, doc) for op, target, doc, reset, _ in GATED]
CASES += [Case("locked", op, "locked_a1", target, locked, doc) for op, target, doc, _, locked in GATED]
