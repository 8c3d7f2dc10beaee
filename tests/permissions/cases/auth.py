"""Matrix rows for authentication, the viewer and the catalogue."""

from __future__ import annotations

from tests.conftest import PASSWORD, PIN
from tests.permissions.cases.base import NOT_FOUND, OK, UNAUTHENTICATED, Case


def doc(query: str, **variables):
    return lambda w: (query, variables)


VIEWER = doc("{ viewer { kind user { username } organization { slug } } }")
ORGANIZATION = doc("{ organization { id slug seatsUsed } }")
CATALOGUE = doc("{ permissions { permission orgWide } }")
MY_SESSIONS = doc("{ mySessions { id current } }")
LOGOUT = doc("mutation { logout { ok errors { code } } }")
UNLOCK = doc("mutation($pin: String!) { unlockWithPin(input: {pin: $pin}) { ok errors { code } } }", pin=PIN)


def login(slug: str, username: str):
    return doc(
        "mutation($s: String!, $u: String!, $p: String!) { login(input: {organizationSlug: $s, username: $u,"
        " password: $p}) { token errors { code } } }",
        s=slug,
        u=username,
        p=PASSWORD,
    )


def change_password():
    return doc(
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
]
