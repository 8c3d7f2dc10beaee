"""Matrix rows for staff users and access: users, user, createUser, updateUser, setUserActive,
enableAccess, disableAccess, sendRegistrationEmail, resetCredentials, updateMyProfile,
acceptStaffInvitation.

The world hook adds to org A: `both` (works at A1 and A2: manager_a1, who holds USERS_MANAGE at A1
only, may not change it), `no_access` (at A1, no login access yet, with an email), `invited` (at A1,
INVITED, with a registration link whose token is known), `closed_site` (a deactivated location of org A
that no one works at: only LOCATIONS_MANAGE reaches it, so to manager_a1 it does not exist).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from models.enums import AccessStatus, StaffTokenPurpose
from models.users import StaffToken, User
from permissions.catalog import Permission
from resolvers.credentials import LINK_TOKEN_PREFIX, new_token, token_hash
from tests.factories import Factory
from tests.permissions.cases.base import Row, fixed, location_id, no_token, rows
from tests.permissions.cases.expect import DENIED_INPUT, FORBIDDEN, HIDDEN, LAST_ADMIN, NOT_FOUND, OK
from tests.permissions.world import World, WorldStep

NEW_PASSWORD = "copper-lagoon-thistle-58"
Document = Callable[[World], tuple[str, dict[str, Any]]]


async def add_users(world: World, factory: Factory) -> None:
    a = world.a.organization
    both = await factory.user(a, username="both-sites", locations=[world.a1, world.a2], session=False)
    no_access = await factory.user(a, username="no-access", locations=[world.a1], access=AccessStatus.NO_ACCESS)
    invited = await factory.user(
        a, username="invited", locations=[world.a1], access=AccessStatus.INVITED, session=False
    )
    await User.filter(id=invited.user.id).update(password_hash=None)
    token = new_token(LINK_TOKEN_PREFIX)
    await StaffToken.create(
        organization=a,
        user=invited.user,
        purpose=StaffTokenPurpose.REGISTRATION,
        token_hash=token_hash(token),
        expires_at=datetime.now(UTC) + timedelta(hours=72),
    )
    # Auditors hold AUDIT_READ organization-wide, which manager_a1 lacks: taking over one of their
    # accounts, or restoring one's grants, is giving what the manager does not hold.
    auditors = await factory.group(a, [Permission.AUDIT_READ], name="Auditors")
    at_a1: dict = {"locations": [world.a1], "groups": [auditors], "email": "auditor@example.org", "session": False}
    auditor_invited = await factory.user(a, username="auditor-invited", access=AccessStatus.INVITED, **at_a1)
    await User.filter(id=auditor_invited.user.id).update(password_hash=None)
    auditor_off = await factory.user(a, username="auditor-off", access=AccessStatus.NO_ACCESS, **at_a1)
    auditor_inactive = await factory.user(a, username="auditor-inactive", active=False, **at_a1)
    in_a_week = datetime.now(UTC) + timedelta(days=7)
    auditor_expiring = await factory.user(a, username="auditor-expiring", expires_at=in_a_week, **at_a1)
    closed_site = await factory.location(a, "Closed site", active=False)
    world.extra["users"] = {
        "closed_site": closed_site,
        "both": both.user,
        "no_access": no_access.user,
        "invited": invited.user,
        "invitation_token": token,
        "auditor_invited": auditor_invited.user,
        "auditor_off": auditor_off.user,
        "auditor_inactive": auditor_inactive.user,
        "auditor_expiring": auditor_expiring.user,
    }


WORLD = (WorldStep(add_users, adds=("users",)),)


def user_id(w: World, who: str) -> str:
    """A principal's user id, or one of the hook's extra users."""
    if who in w.principals:
        return str(w.principals[who].user.id)
    return str(w.extra["users"][who].id)


USERS = "{ users { totalCount edges { node { username } } } }"
ONE = "query($id: ID!) { user(id: $id) { id username } }"
CREATE = """mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } errors { code field } } }"""
UPDATE = """mutation($id: ID!) { updateUser(input: {id: $id, firstName: "Changed"}) {
  user { id } errors { code field } } }"""
SITES = """mutation($id: ID!, $sites: [ID!]) { updateUser(input: {id: $id, sites: {locationIds: $sites}}) {
  user { id } errors { code field } } }"""
EXPIRE = """mutation($id: ID!, $at: DateTime) { updateUser(input: {id: $id, expiresAt: $at}) {
  user { id } errors { code field } } }"""
IN_A_WEEK = (datetime.now(UTC) + timedelta(days=7)).isoformat()
SET_ACTIVE = """mutation($id: ID!) { setUserActive(input: {id: $id, active: false}) {
  user { id } errors { code field } } }"""
REACTIVATE = """mutation($id: ID!) { setUserActive(input: {id: $id, active: true}) {
  user { id } errors { code field } } }"""
EMAIL = """mutation($id: ID!) { updateUser(input: {id: $id, email: "mine@example.org"}) {
  user { id } errors { code field } } }"""
ENABLE_LATER = """mutation($ids: [ID!]!) { enableAccess(input: {userIds: $ids, registrationEmail: SEND_LATER}) {
  users { id } errors { code field } } }"""
RESET_LINK = """mutation($id: ID!) { resetCredentials(input: {id: $id}) { user { id } errors { code field } } }"""
ENABLE = """mutation($ids: [ID!]!) { enableAccess(input: {userIds: $ids}) { users { id } errors { code field } } }"""
DISABLE = """mutation($ids: [ID!]!) { disableAccess(input: {userIds: $ids}) { users { id } errors { code field } } }"""
SEND = """mutation($ids: [ID!]!) { sendRegistrationEmail(input: {userIds: $ids}) {
  users { id } errors { code field } } }"""
RESET = """mutation($id: ID!, $p: String) { resetCredentials(input: {id: $id, newPassword: $p}) {
  user { id } errors { code field } } }"""
PROFILE = """mutation { updateMyProfile(input: {firstName: "Me", phone: "416-555-0142"}) {
  user { id } errors { code field } } }"""
ACCEPT = """mutation($t: String!, $p: String!) { acceptStaffInvitation(input: {token: $t, password: $p}) {
  token errors { code field } } }"""


def on(document: str, who: str, **extra):
    def build(w):
        return document, {"id": user_id(w, who), **extra}

    return build


def on_many(document: str, *who: str):
    def build(w):
        return document, {"ids": [user_id(w, name) for name in who]}

    return build


def site_id(w: World, site: str) -> str:
    """A world location's id ("a1", "a2", "b1"), or the hook's `closed_site`."""
    return str(w.extra["users"][site].id) if site == "closed_site" else location_id(w, site)


def create(*, site: str = "a1", is_admin: bool = False, username: str = "newcomer"):
    def build(w):
        return CREATE, {
            "input": {
                "login": {"username": username, "password": NEW_PASSWORD, "isAdmin": is_admin},
                "contact": {"firstName": "New", "lastName": "Comer", "type": "FRONT_DESK", "email": "n@clinic.example"},
                "sites": {"locationIds": [site_id(w, site)]},
            }
        }

    return build


def move(who: str, site: str):
    def build(w):
        return SITES, {"id": user_id(w, who), "sites": [site_id(w, site)]}

    return build


def accept():
    def build(w):
        return ACCEPT, {"t": w.extra["users"]["invitation_token"], "p": NEW_PASSWORD}

    return build


def manager_denied(case: str, target: str, document: Document) -> Row:
    """manager_a1 (USERS_MANAGE at A1 only) asks for more than it holds: the payload's FORBIDDEN."""
    return (case, "manager_a1", target, DENIED_INPUT, document)


def switching_off(document: Callable[[str], Document], *more: Row) -> list[Row]:
    """setUserActive(active: false) and disableAccess alike: both end a user's access, so both refuse the
    last admin and a target beyond the manager's sites. `document(who)` aims at that user."""
    return [
        ("admin", "admin_a", "front desk", OK, document("front_desk_a1")),
        ("last admin, oneself", "admin_a", "self", LAST_ADMIN, document("admin_a")),
        manager_denied("manager, target at A1+A2", "both", document("both")),
        ("other org", "admin_b", "front desk A", NOT_FOUND, document("front_desk_a1")),
        ("front desk", "front_desk_a1", "no group", FORBIDDEN, document("no_group")),
        *more,
    ]


def includes(*names: str, excludes: tuple[str, ...] = ()):
    def check(w, data):
        seen = {e["node"]["username"] for e in data["edges"]}
        assert set(names) <= seen, seen
        assert not set(excludes) & seen, seen

    return check


CASES = [
    # users / user
    *rows(
        "users",
        ("everyone", "admin_a", "org A", OK, fixed(USERS), includes("both-sites", "frontdesk", "billing")),
        (
            "USERS_READ at A1",
            "manager_a1",
            "org A",
            OK,
            fixed(USERS),
            includes("frontdesk", "both-sites", "restricted"),
        ),
        (
            "USERS_READ at A2 only",
            "restricted_a2",
            "org A",
            OK,
            fixed(USERS),
            includes("both-sites", "restricted", excludes=("frontdesk", "billing")),
        ),
        (
            "other org's users",
            "admin_b",
            "org B",
            OK,
            fixed(USERS),
            includes("admin", excludes=("frontdesk", "both-sites", "manager")),
        ),
        ("no group", "no_group", "org A", FORBIDDEN, fixed(USERS)),
        no_token("-", fixed(USERS)),
    ),
    *rows(
        "user",
        ("user at A1", "manager_a1", "front desk", OK, on(ONE, "front_desk_a1")),
        ("user at A1 from A2", "restricted_a2", "front desk", HIDDEN, on(ONE, "front_desk_a1")),
        ("other org", "admin_b", "front desk A", HIDDEN, on(ONE, "front_desk_a1")),
        ("no group", "no_group", "self", FORBIDDEN, on(ONE, "no_group")),
        no_token("front desk", on(ONE, "front_desk_a1")),
    ),
    # createUser
    *rows(
        "createUser",
        ("admin", "admin_a", "at A1", OK, create()),
        ("manager at A1", "manager_a1", "at A1", OK, create()),
        manager_denied("manager at A2", "at A2", create(site="a2")),
        manager_denied("manager grants admin", "admin at A1", create(is_admin=True)),
        ("restricted to A2 at A1", "restricted_a2", "at A1", DENIED_INPUT, create()),
        ("other org's location", "admin_b", "at A1", NOT_FOUND, create()),
        # A location out of the actor's reach answers like an unknown one (not "deactivated").
        ("manager, a closed site out of reach", "manager_a1", "at closed site", NOT_FOUND, create(site="closed_site")),
        ("front desk", "front_desk_a1", "at A1", FORBIDDEN, create()),
        no_token("at A1", create()),
    ),
    # updateUser
    *rows(
        "updateUser",
        ("admin", "admin_a", "front desk", OK, on(UPDATE, "front_desk_a1")),
        ("manager, target at A1", "manager_a1", "front desk", OK, on(UPDATE, "front_desk_a1")),
        manager_denied("manager, target at A1+A2", "both", on(UPDATE, "both")),
        (
            "manager moves to a closed site out of reach",
            "manager_a1",
            "front desk",
            NOT_FOUND,
            move("front_desk_a1", "closed_site"),
        ),
        manager_denied("manager edits an admin", "admin A", on(UPDATE, "admin_a")),
        manager_denied("manager redirects an invited auditor's email", "auditor invited", on(EMAIL, "auditor_invited")),
        manager_denied(
            "manager lifts an auditor's expiry", "auditor expiring", on(EXPIRE, "auditor_expiring", at=None)
        ),
        ("admin lifts an auditor's expiry", "admin_a", "auditor", OK, on(EXPIRE, "auditor_expiring", at=None)),
        # Taking over an account is granting, and one's own needs one's password (updateMyProfile).
        ("admin redirects its own email", "admin_a", "admin A", DENIED_INPUT, on(EMAIL, "admin_a")),
        ("last admin, own expiry", "admin_a", "self", LAST_ADMIN, on(EXPIRE, "admin_a", at=IN_A_WEEK)),
        ("not visible from A2", "restricted_a2", "front desk", NOT_FOUND, on(UPDATE, "front_desk_a1")),
        ("other org", "admin_b", "front desk A", NOT_FOUND, on(UPDATE, "front_desk_a1")),
        ("no group", "no_group", "front desk", FORBIDDEN, on(UPDATE, "front_desk_a1")),
        no_token("front desk", on(UPDATE, "front_desk_a1")),
    ),
    # setUserActive
    *rows(
        "setUserActive",
        *switching_off(
            partial(on, SET_ACTIVE),
            ("admin reactivates", "admin_a", "auditor", OK, on(REACTIVATE, "auditor_inactive")),
            manager_denied("manager reactivates an auditor", "auditor inactive", on(REACTIVATE, "auditor_inactive")),
        ),
    ),
    # enableAccess
    *rows(
        "enableAccess",
        ("admin", "admin_a", "no access", OK, on_many(ENABLE, "no_access")),
        ("manager, target at A1", "manager_a1", "no access", OK, on_many(ENABLE, "no_access")),
        manager_denied("manager restores an auditor", "auditor off", on_many(ENABLE_LATER, "auditor_off")),
        manager_denied("manager, one target at A1+A2", "no access + both", on_many(ENABLE, "no_access", "both")),
        ("other org", "admin_b", "no access A", NOT_FOUND, on_many(ENABLE, "no_access")),
        ("lacks the permission", "restricted_a2", "both", FORBIDDEN, on_many(ENABLE, "both")),
        no_token("no access", on_many(ENABLE, "no_access")),
    ),
    # disableAccess
    *rows("disableAccess", *switching_off(partial(on_many, DISABLE))),
    # sendRegistrationEmail
    *rows(
        "sendRegistrationEmail",
        ("admin", "admin_a", "invited", OK, on_many(SEND, "invited")),
        ("manager, target at A1", "manager_a1", "invited", OK, on_many(SEND, "invited")),
        manager_denied("manager mails an auditor's link", "auditor invited", on_many(SEND, "auditor_invited")),
        ("admin mails an auditor's link", "admin_a", "auditor", OK, on_many(SEND, "auditor_invited")),
        ("other org", "admin_b", "invited A", NOT_FOUND, on_many(SEND, "invited")),
        ("billing", "billing_a1", "invited", FORBIDDEN, on_many(SEND, "invited")),
    ),
    # resetCredentials
    *rows(
        "resetCredentials",
        ("admin sets", "admin_a", "front desk", OK, on(RESET, "front_desk_a1", p=NEW_PASSWORD)),
        ("manager mails a link", "manager_a1", "no access", OK, on(RESET_LINK, "no_access")),
        # Taking over an account is granting: the front desk holds client permissions the manager lacks.
        manager_denied(
            "manager sets a password above its own", "front desk", on(RESET, "front_desk_a1", p=NEW_PASSWORD)
        ),
        manager_denied("manager mails a link above its own", "front desk", on(RESET_LINK, "front_desk_a1")),
        manager_denied("manager, target at A1+A2", "both", on(RESET, "both")),
        ("other org", "admin_b", "front desk A", NOT_FOUND, on(RESET, "front_desk_a1")),
        ("lacks the permission", "restricted_a2", "both", FORBIDDEN, on(RESET, "both")),
        ("admin sets its own", "admin_a", "admin A", DENIED_INPUT, on(RESET, "admin_a", p=NEW_PASSWORD)),
    ),
    # own profile and registration
    *rows(
        "updateMyProfile",
        ("no group, own profile", "no_group", "self", OK, fixed(PROFILE)),
        no_token("-", fixed(PROFILE)),
    ),
    *rows(
        "acceptStaffInvitation",
        ("registration link", "anonymous", "invited", OK, accept()),
    ),
]
