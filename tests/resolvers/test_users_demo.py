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


async def test_the_whole_demo_through_the_api(gql, db):
    """What `make run` loads, as its administrator sees it: two locations, the seat limit, the three
    groups (the managers' restricted to one location) and a dozen staff in different states."""
    from app import demo

    await demo.load_demo()
    body = await gql(LOGIN, {"s": demo.DEMO_SLUG, "u": demo.ADMIN_USERNAME, "p": demo.ADMIN_PASSWORD})
    token = body["data"]["login"]["token"]
    body = await gql(
        """{ organization { seatLimit seatsUsed } locations { name }
             permissionGroups { name allLocations locations { name } memberCount } }""",
        token=token,
    )
    data = body["data"]
    assert data["organization"]["seatLimit"] == 25 and 1 < data["organization"]["seatsUsed"] <= 25
    assert sorted(loc["name"] for loc in data["locations"]) == ["Downtown", "Uptown"]
    groups = {g["name"]: g for g in data["permissionGroups"]}
    assert {"Front desk", "Billing", "Uptown managers"} <= set(groups)
    assert groups["Front desk"]["allLocations"] and groups["Billing"]["allLocations"]
    assert not groups["Uptown managers"]["allLocations"]
    assert groups["Uptown managers"]["locations"] == [{"name": "Uptown"}]
    assert all(g["memberCount"] >= 1 for g in groups.values())
    body = await gql(USERS, token=token)
    users = [e["node"] for e in body["data"]["users"]["edges"]]
    assert len(users) >= 12
    assert {u["status"] for u in users} >= {"ACTIVE", "EXPIRED", "INACTIVE"}
    assert {u["accessStatus"] for u in users} == {"ENABLED", "INVITED", "NO_ACCESS"}


def login_table(text: str) -> dict[str, dict[str, str]]:
    """The printed table of demo logins: username -> {password, role, state} (columns split on 2+ spaces)."""
    import re

    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split() == ["username", "password", "role", "state"])
    rows = {}
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        username, password, role, state = re.split(r"\s{2,}", line.strip())
        rows[username] = {"password": password, "role": role, "state": state}
    return rows


async def test_the_printed_table_holds_every_demo_login_and_each_does_what_it_says(gql, db):
    """No guessing: every user of the demo is a row with its own password, role and state, and
    logging in with that password succeeds exactly when the state says it can."""
    from app import demo
    from models.organization import Organization
    from models.users import User

    text = await demo.load_demo()
    table = login_table(text)
    org = await Organization.get(slug=demo.DEMO_SLUG)
    usernames = await User.filter(organization_id=org.id).values_list("username", flat=True)
    assert set(table) == set(usernames)
    assert table["gus.nogroup"]["role"].endswith("no permission group")
    for username, row in table.items():
        assert row["role"] and row["state"], username
        if row["password"].startswith("("):  # no password yet: an invited user
            assert "invited" in row["state"], username
            continue
        body = await gql(LOGIN, {"s": demo.DEMO_SLUG, "u": username, "p": row["password"]})
        codes = [e["code"] for e in body["data"]["login"]["errors"]]
        if row["state"].startswith("can log in"):
            assert codes == [], (username, row, codes)
        else:
            assert row["state"].startswith("login refused") and codes and codes[0] in row["state"], (username, codes)
