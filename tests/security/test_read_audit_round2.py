"""The read side's side channels, second round (docs/architecture.md "Scoping pairs", "Principals and
grants"): nested paths, filters, counts and the audit trail must say no more of a row than its one
scoping rule (or the guard of a field) lets the viewer see."""

from __future__ import annotations

from permissions.catalog import Permission as P
from tests.factories import Factory, Org, staff_with
from tests.support import GQL

OWN_GROUP_MEMBERS = """query { viewer { user { permissionGroups { name memberCount
  members { totalCount edges { node { username } } } } } } }"""


async def test_own_group_members_tell_no_membership_the_viewer_may_not_see(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """`User.permissionGroups` shows a colleague's groups only to those who may see groups (GROUPS_MANAGE
    or USERS_MANAGE), and the `users` filter by group asks the same. Through the viewer's own group
    (`viewer { user { permissionGroups { members } } }`) a USERS_READ holder without either must not
    learn which colleagues share it: it sees its own membership, as `User.permissionGroups` shows it."""
    a1 = org_a.locations[0]
    team = await factory.group(org_a.organization, [P.USERS_READ], name="Night shift")
    viewer = await factory.user(org_a.organization, username="viewer", locations=[a1], groups=[team])
    await factory.user(org_a.organization, username="colleague", locations=[a1], groups=[team])
    # (`User.permissionGroups` of the colleague answers [] to this viewer: test_partner_audit_round2.py.)

    body = await gql(OWN_GROUP_MEMBERS, token=viewer.token)
    assert "errors" not in body, body
    (group,) = body["data"]["viewer"]["user"]["permissionGroups"]
    listed = [e["node"]["username"] for e in group["members"]["edges"]]
    assert listed == ["viewer"], group
    assert group["memberCount"] == group["members"]["totalCount"] == 1, group
    # Those who may see groups see who is in it.
    managed = await gql(
        "query($id: ID!) { permissionGroup(id: $id) { memberCount members { edges { node { username } } } } }",
        {"id": str(team.id)},
        token=org_a.admin.token,
    )
    assert managed["data"]["permissionGroup"]["memberCount"] == 2, managed


SIGN_UP = """mutation($i: PortalSignUpInput!) { portalSignUp(input: $i) { token errors { field code } } }"""
PORTAL_LOGIN = """mutation($i: PortalLoginInput!) { portalLogin(input: $i) { token errors { code } } }"""
TRAIL = """query { auditEvents(first: 100) { edges { node { action actorKind actorName targetType targetId
  changes } } } }"""


async def test_a_portal_sign_up_does_not_name_the_patient_to_an_audit_reader_who_may_not_read_it(
    gql: GQL, factory: Factory, org_a: Org
) -> None:
    """The trail is no side door (docs/architecture.md "Audit and PHI access"): an event about a client
    shows its values only to a reader who may read that client. A sign-up is recorded as `client.register`
    about the new client, acted by the portal account whose name is the one the patient typed for the
    client: the actor's name must not hand a reader who may not read the client the patient's name, nor
    may a failed portal login about that account hand it the patient's email."""
    from tests.factories import PASSWORD

    a1, a2 = org_a.locations
    body = await gql(
        SIGN_UP,
        {
            "i": {
                "organizationSlug": "clinic-a",
                "email": "maya.lund@example.org",
                "password": PASSWORD,
                "firstName": "Maya",
                "lastName": "Lund",
                "dateOfBirth": "1988-04-02",
                "locationId": str(a2.id),
            }
        },
    )
    assert body["data"]["portalSignUp"]["errors"] == [], body
    codes = []
    for _ in range(8):  # wrong passwords until the throttle answers too
        wrong = await gql(
            PORTAL_LOGIN, {"i": {"organizationSlug": "clinic-a", "email": "maya.lund@example.org", "password": "nope"}}
        )
        codes += [e["code"] for e in wrong["data"]["portalLogin"]["errors"]]
    assert "INVALID_CREDENTIALS" in codes and "LOGIN_THROTTLED" in codes, codes
    auditor = await staff_with(factory, org_a, [P.AUDIT_READ, P.CLIENTS_READ], [a1])
    trail = await gql(TRAIL, token=auditor.token)
    assert "errors" not in trail, trail
    events = [e["node"] for e in trail["data"]["auditEvents"]["edges"]]
    registered = [e for e in events if e["action"] == "client.register"]
    assert registered, events
    assert "Lund" not in str(events), registered
    failed = [e for e in events if e["action"] in ("portal.login_failed", "portal.login_throttled")]
    assert {e["action"] for e in failed} == {"portal.login_failed", "portal.login_throttled"}, events
    assert "maya.lund" not in str(events), failed
    # A reader who may read the client sees who registered it.
    desk = await staff_with(factory, org_a, [P.AUDIT_READ, P.CLIENTS_READ], [a2])
    trail = await gql(TRAIL, token=desk.token)
    shown = [e["node"] for e in trail["data"]["auditEvents"]["edges"] if e["node"]["action"] == "client.register"]
    assert shown[0]["actorName"] == "Maya Lund", shown
    failed = [e["node"] for e in trail["data"]["auditEvents"]["edges"] if e["node"]["action"] == "portal.login_failed"]
    assert failed[0]["changes"] == {"email": "maya.lund@example.org"}, failed
