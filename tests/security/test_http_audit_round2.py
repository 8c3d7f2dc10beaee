"""Second audit of the process around the API (transport, document limits, persisted queries, pages,
throttles): each test here failed on the code it was written against."""

from __future__ import annotations

import hashlib
import ipaddress
import sys
import time
from typing import Any

import httpx
import pytest
from graphql import parse

from app.main import create_app
from app.middleware import client_ip
from app.persisted import PersistedQueries
from app.settings import Settings
from models.sessions import LoginAttempt
from permissions.errors import ApiError
from resolvers.portal_auth import portal_login_key
from resolvers.throttle import throttle_address
from schema.limits import check_document
from tests.factories import PASSWORD, Org
from tests.support import error_codes

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
# 490 copies of one selection: under the character and token limits, over the 500 field selections that
# keep graphql-core's quadratic overlapping-fields rule cheap (about 1.5 s of CPU to validate).
REPEATED = "viewer { kind } " * 490


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("query", "operation"),
    [
        # The heavy selections in an operation that does not run...
        ("query A { __typename } query B { " + REPEATED + "}", "A"),
        # ...in a document whose operation is ambiguous (no operationName)...
        ("query A { __typename } query B { " + REPEATED + "}", None),
        # ...or in a fragment nothing spreads: validation walks the whole document all the same.
        ("{ __typename } fragment F on Query { " + REPEATED + "}", None),
    ],
)
async def test_repeated_selections_anywhere_in_the_document_are_refused_before_validation(
    client, query: str, operation: str | None
) -> None:
    """Only the operation that runs was measured, but graphql-core validates every operation and
    fragment of the document: an anonymous caller bought seconds of CPU per request with them."""
    body = {"query": query + f" # {operation}", "operationName": operation}
    started = time.perf_counter()
    response = await client.post("/graphql", json=body)
    elapsed = time.perf_counter() - started
    assert response.status_code in (200, 400), response.text
    assert error_codes(response.json()) == [TOO_COMPLEX], response.text
    assert elapsed < 1, elapsed


def test_a_document_of_several_small_operations_still_passes() -> None:
    document = parse("query A { viewer { kind } } query B { viewer { kind } } fragment F on Query { __typename }")
    check_document(document, "A", None)
    check_document(document, None, None)  # ambiguous: graphql-core answers
    with pytest.raises(ApiError):
        check_document(parse("query A { __typename } query B { " + REPEATED + "}"), "A", None)


def test_the_persisted_query_store_is_bounded_in_the_bytes_its_documents_hold() -> None:
    """MAX_BYTES bounds memory: a document with one emoji in a comment holds 4 bytes a character."""
    store = PersistedQueries(max_bytes=200_000)
    for n in range(20):
        document = "{ __typename } # \U0001f600 " + "x" * 14_000 + str(n)
        store.resolve(document, {"persistedQuery": {"version": 1, "sha256Hash": _sha(document)}}, "token")
    held = sum(sys.getsizeof(document) for document in store.documents.values())
    assert held <= 200_000 + 100 * len(store.documents), held


SIGN_UP = """mutation($i: PortalSignUpInput!) { portalSignUp(input: $i) { token errors { field code } } }"""


async def test_an_ipv6_caller_cannot_dodge_the_sign_up_limit_by_rotating_its_own_addresses(
    settings: Settings, db, org_a: Org
) -> None:
    """Every sign-up counts against the caller's address, five in the throttle window, so that "one
    address cannot flood the clinic's review queue". An IPv6 host holds a whole /64 (2^64 addresses,
    each a counter of its own): it signed up without limit. Its addresses count as one."""
    app = create_app(settings, manage_database=False, run_jobs=False)

    async def sign_up(address: str, n: int) -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://tessera.test") as http:
            given = {
                "organizationSlug": "clinic-a",
                "email": f"flood{n}@example.org",
                "password": PASSWORD,
                "firstName": "Flo",
                "lastName": f"Od{n}",
                "dateOfBirth": "1984-06-30",
                "locationId": str(org_a.locations[0].id),
            }
            response = await http.post("/graphql", json={"query": SIGN_UP, "variables": {"i": given}})
            assert response.status_code == 200, response.text
            return response.json()["data"]["portalSignUp"]

    for n in range(5):
        assert (await sign_up(f"2001:db8:1:1::{n + 1:x}", n))["errors"] == []
    refused = await sign_up("2001:db8:1:1:ffff:ffff:ffff:ffff", 5)
    assert [e["code"] for e in refused["errors"]] == ["LOGIN_THROTTLED"], refused
    assert (await sign_up("2001:db8:1:2::1", 6))["errors"] == [], "another /64 is another caller"


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typename }", "variables": {"n": ' + b"1" * 5000 + b"}}",
        b'{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": ' + b"9" * 4301 + b"}}}",
    ],
)
async def test_a_json_integer_too_long_to_convert_is_a_coded_400_not_a_500(client, body: bytes) -> None:
    """Python refuses to convert an integer of more than 4,300 digits (a ValueError that is not a
    JSONDecodeError): the anonymous caller got a bare "Internal Server Error"."""
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]


LONG = "1" * 5000


@pytest.mark.parametrize(
    "query",
    [
        "{ clients(first: LONG) { totalCount } }".replace("LONG", LONG),
        "query($n: Int = LONG) { clients(first: $n) { totalCount } }".replace("LONG", LONG),
        "query($n: Int = -LONG) { __typename }".replace("LONG", LONG),
        "{ __typename } fragment F on Query { clients(first: LONG) { totalCount } }".replace("LONG", LONG),
    ],
)
async def test_an_integer_literal_too_long_to_convert_is_bad_input_not_an_internal_error(client, query: str) -> None:
    """graphql-core (and the cost estimate, reading a variable's default) converts an Int literal
    with int(), which refuses more than 4,300 digits: an anonymous caller got INTERNAL_SERVER_ERROR,
    logged as unexpected and counted against the server-error alert."""
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    assert error_codes(response.json()) == ["BAD_USER_INPUT"], response.text


@pytest.mark.parametrize("variant", ["maya@ｅｘａｍｐｌｅ.org", "maya@EXAMPLE.org", "MAYA@example.org"])
async def test_probing_a_taken_email_by_sign_up_counts_against_that_email_whatever_its_spelling(
    gql, factory, org_a: Org, variant: str
) -> None:
    """A sign-up for an email with an account "counts against that email, as a wrong password". The
    email is normalized before it is looked up (a fullwidth domain is the ASCII one), but the probe
    was counted under the spelling typed: each of the many spellings of one address was a fresh
    counter, so probes of it never added up."""
    await factory.portal_account(org_a, "maya@example.org")
    given = {
        "organizationSlug": "clinic-a",
        "email": variant,
        "password": PASSWORD,
        "firstName": "Maya",
        "lastName": "Lund",
        "dateOfBirth": "1984-06-30",
        "locationId": str(org_a.locations[0].id),
    }
    body = await gql(SIGN_UP, {"i": given})
    assert [e["code"] for e in body["data"]["portalSignUp"]["errors"]] == ["DUPLICATE"]
    assert await LoginAttempt.filter(username_key=portal_login_key("maya@example.org")).count() == 1


def test_a_trusted_proxy_reached_over_a_dual_stack_socket_is_still_trusted() -> None:
    """`tessera serve --host ::` sees an IPv4 proxy as `::ffff:10.0.0.5`, which is in no IPv4
    network: its X-Forwarded-For was ignored and every client behind it shared the proxy's address,
    so five wrong passwords from anyone locked a username for everybody."""
    proxies = [ipaddress.ip_network("10.0.0.0/8")]
    assert client_ip("::ffff:10.0.0.5", "198.51.100.7", proxies) == "198.51.100.7"
    assert client_ip("::ffff:10.0.0.5", "198.51.100.7, ::ffff:10.0.0.9", proxies) == "198.51.100.7"
    assert client_ip("::ffff:198.51.100.9", "203.0.113.5", proxies) == "::ffff:198.51.100.9"
    # A proxy listed in the mapped form itself stays trusted (the only form that matched before).
    mapped = [ipaddress.ip_network("::ffff:10.0.0.0/104")]
    assert client_ip("::ffff:10.0.0.5", "198.51.100.7", mapped) == "198.51.100.7"


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("203.0.113.10", "203.0.113.10"),
        ("::ffff:203.0.113.10", "203.0.113.10"),
        ("2001:db8:1:1:abcd::7", "2001:db8:1:1::/64"),
        ("64:ff9b::cb00:710a", "203.0.113.10"),  # NAT64: each IPv4 caller its own counter
        (None, "unknown"),
        ("not an address", "not an address"),
    ],
)
def test_the_throttles_count_a_caller_by_its_ipv4_address_or_ipv6_64(address: str | None, counted_as: str) -> None:
    assert throttle_address(address) == counted_as
