"""The demo's staff step (app/demo_staff.py): its printed logins work, and users show every state."""

from __future__ import annotations

from app import demo_staff

LOGIN = """mutation($s: String!, $u: String!, $p: String!) { login(input: {organizationSlug: $s, username: $u,
  password: $p}) { token errors { code } } }"""
USERS = (
    "{ users(first: 100) { totalCount edges { node { username status accessStatus hasPin passwordResetRequired } } } }"
)


async def test_demo_staff_logins_and_states(gql, factory):
    org = await factory.organization("demo-staff")
    downtown = await factory.location(org.organization, "Downtown")
    uptown = await factory.location(org.organization, "Uptown")
    await demo_staff.load(org.organization, {"Downtown": downtown, "Uptown": uptown})

    tokens = {}
    for username, password in (
        ("morgan.manager", demo_staff.MANAGER_PASSWORD),
        ("frida.desk", demo_staff.FRONT_DESK_PASSWORD),
        ("bea.billing", demo_staff.STAFF_PASSWORD),
    ):
        body = await gql(LOGIN, {"s": "demo-staff", "u": username, "p": password})
        assert body["data"]["login"]["errors"] == [], (username, body)
        tokens[username] = body["data"]["login"]["token"]
        assert username not in password

    body = await gql(USERS, token=org.admin.token)
    users = {e["node"]["username"]: e["node"] for e in body["data"]["users"]["edges"]}
    assert len(users) == 13
    assert users["ella.expired"]["status"] == "EXPIRED"
    assert users["ian.inactive"]["status"] == "INACTIVE"
    assert users["nina.invited"]["accessStatus"] == "INVITED"
    assert users["paul.noaccess"]["accessStatus"] == "NO_ACCESS"
    assert users["rita.reset"]["passwordResetRequired"] is True
    assert users["omar.desk"]["hasPin"] is False and users["frida.desk"]["hasPin"] is True

    # The Uptown manager sees Uptown staff (and all-locations ones), not Downtown-only staff.
    body = await gql(USERS, token=tokens["morgan.manager"])
    seen = {e["node"]["username"] for e in body["data"]["users"]["edges"]}
    assert {"omar.desk", "bea.billing", "nina.invited", "morgan.manager"} <= seen
    assert not {"frida.desk", "tom.temp"} & seen
