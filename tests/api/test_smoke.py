"""The basic loop over HTTP: log in with a password, ask who I am."""

from tests.factories import PASSWORD
from tests.support import error_codes

LOGIN = """mutation($slug: String!, $u: String!, $p: String!) {
  login(input: {organizationSlug: $slug, username: $u, password: $p}) {
    token expiresAt passwordResetRequired user { username } errors { field message code }
  }
}"""


async def test_login_then_viewer(gql, org_a):
    body = await gql(LOGIN, {"slug": "clinic-a", "u": "admin", "p": PASSWORD})
    login = body["data"]["login"]
    assert login["errors"] == [] and login["token"].startswith("tss_")
    assert body["extensions"]["requestId"]
    viewer = await gql("{ viewer { kind user { displayName } organization { name } } }", token=login["token"])
    assert viewer["data"]["viewer"]["organization"]["name"] == "Clinic clinic-a"


async def test_viewer_needs_a_token(gql, db):
    body = await gql("{ viewer { kind } }")
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None
