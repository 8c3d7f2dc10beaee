"""The demo's client portal (app/demo_portal.py): the printed portal login works, and it shows the
mother her own profile and her son's, and nobody else; two invitations wait on the staff side."""

from __future__ import annotations

import re

from app import demo

PORTAL_LOGIN = re.compile(
    r'portalLogin\(input: \{organizationSlug: "([^"]+)", email: "([^"]+)", password: "([^"]+)"\}\)'
)
VIEWER = "{ viewer { kind portalAccount { links { relationship client { firstName lastName } } } } }"
INVITATIONS = "{ clientInvitations(status: PENDING) { totalCount edges { node { email requiresVerificationCode } } } }"
LOGIN = """mutation($s: String!, $u: String!, $p: String!) { login(input: {organizationSlug: $s, username: $u,
  password: $p}) { token } }"""


async def test_the_printed_portal_login_shows_the_mother_and_her_son(gql, db) -> None:
    text = await demo.load_demo()
    printed = PORTAL_LOGIN.findall(text)
    assert printed, text
    for slug, email, password in printed:
        body = await gql(
            "mutation($s: String!, $e: String!, $p: String!) { portalLogin(input: {organizationSlug: $s, email: $e, "
            "password: $p}) { token errors { code } } }",
            {"s": slug, "e": email, "p": password},
        )
        assert body["data"]["portalLogin"]["errors"] == [], body
        viewer = (await gql(VIEWER, token=body["data"]["portalLogin"]["token"]))["data"]["viewer"]
        links = sorted((link["relationship"], link["client"]["firstName"]) for link in viewer["portalAccount"]["links"])
        assert links == [("PARENT", "Lucas"), ("SELF", "Sofia")]

    admin = (await gql(LOGIN, {"s": demo.DEMO_SLUG, "u": demo.ADMIN_USERNAME, "p": demo.ADMIN_PASSWORD}))["data"]
    pending = (await gql(INVITATIONS, token=admin["login"]["token"]))["data"]["clientInvitations"]
    assert pending["totalCount"] == 2
    assert sorted(e["node"]["requiresVerificationCode"] for e in pending["edges"]) == [False, True]


async def test_the_demo_has_online_registrations_that_duplicate_existing_clients(gql, db) -> None:
    await demo.load_demo()
    admin = (await gql(LOGIN, {"s": demo.DEMO_SLUG, "u": demo.ADMIN_USERNAME, "p": demo.ADMIN_PASSWORD}))["data"]
    token = admin["login"]["token"]
    listed = await gql("{ onlineRegistrations { totalCount edges { node { id firstName lastName } } } }", token=token)
    registrations = listed["data"]["onlineRegistrations"]
    assert registrations["totalCount"] >= 2
    found = []
    for edge in registrations["edges"]:
        body = await gql(
            "query($id: ID!) { clientDuplicates(clientId: $id) { score reasons } }",
            {"id": edge["node"]["id"]},
            token=token,
        )
        found += body["data"]["clientDuplicates"][:1]
    obvious = [c for c in found if {"same date of birth", "same mobile"} <= set(c["reasons"])]
    assert obvious and all(c["score"] >= 0.7 for c in obvious), found


async def test_the_demo_has_a_partner_integration_whose_token_reads_downtown_only(gql, db) -> None:
    await demo.load_demo()
    admin = (await gql(LOGIN, {"s": demo.DEMO_SLUG, "u": demo.ADMIN_USERNAME, "p": demo.ADMIN_PASSWORD}))["data"]
    token = admin["login"]["token"]
    [integration] = (await gql("{ integrations { id name locations { name } } }", token=token))["data"]["integrations"]
    assert integration["locations"] == [{"name": "Downtown"}]
    made = await gql(
        'mutation($id: ID!) { createApiToken(input: {integrationId: $id, name: "site"}) { secret errors { code } } }',
        {"id": integration["id"]},
        token=token,
    )
    secret = made["data"]["createApiToken"]["secret"]
    body = await gql("{ clients(first: 100) { edges { node { location { name } } } } }", token=secret)
    assert {e["node"]["location"]["name"] for e in body["data"]["clients"]["edges"]} == {"Downtown"}
    assert body["extensions"]["cost"]["requestedQueryCost"] >= body["extensions"]["cost"]["actualQueryCost"] > 0
