"""Hardened transport (docs/architecture.md "API conventions") over HTTP: methods and content types, batching, body
size, the
document limits (each just under and just over), error masking, validation errors, production
settings, headers, CORS, the request id and the client IP."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.logging import JsonFormatter
from app.main import create_app
from app.settings import Settings
from models.audit import AuditEvent
from models.sessions import LoginAttempt, Session
from tests.factories import PASSWORD
from tests.support import error_codes

TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@pytest.fixture
def make_client(database, db):
    """Build an app with other settings, behind httpx, inside the test's transaction."""
    opened: list[httpx.AsyncClient] = []

    def make(client_ip: str = "203.0.113.10", **overrides: Any) -> httpx.AsyncClient:
        settings = Settings(database_url=database.url, public_url="https://tessera.test", **overrides)
        app = create_app(settings, manage_database=False, run_jobs=False)
        transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
        http = httpx.AsyncClient(transport=transport, base_url="http://tessera.test")
        opened.append(http)
        return http

    yield make


@pytest.fixture
async def prod(make_client) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(env="production", introspection=False) as http:
        yield http


async def post(http: httpx.AsyncClient, query: str, variables: dict | None = None, **kw: Any) -> httpx.Response:
    return await http.post("/graphql", json={"query": query, "variables": variables or {}}, **kw)


# --------------------------------------------------------------------------- methods, bodies, batching


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_other_methods_are_refused(client, method):
    response = await client.request(method, "/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 405


async def test_post_json_executes(client):
    response = await post(client, "{ __typename }")
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("query", ["{ __typename }", "mutation { logout { ok } }"])
async def test_get_never_executes(client, org_a, query):
    for params in ({"query": query}, {"query": query, "token": org_a.admin.token}):
        response = await client.get("/graphql", params=params, headers={"accept": "application/json"})
        assert response.status_code == 400, response.text
        assert "not allowed when using GET" in response.text and "__typename" not in response.text
    assert await Session.filter(id=org_a.admin.session.id, revoked_at__isnull=True).exists()


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/x-www-form-urlencoded", "query=%7B__typename%7D"),
        ("text/plain", json.dumps({"query": "{ __typename }"})),
        ("text/plain;charset=UTF-8", json.dumps({"query": "{ __typename }"})),
        (
            "multipart/form-data; boundary=x",
            '--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ __typename }\r\n--x--\r\n',
        ),
        (None, json.dumps({"query": "{ __typename }"})),
    ],
)
async def test_only_json_bodies_execute(client, content_type, body):
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/graphql", content=body.encode(), headers=headers)
    assert response.status_code == 400, response.text
    assert "__typename" not in response.text


async def test_csrf_form_cannot_log_out(client, org_a):
    """A cross-site form cannot run a mutation even when the browser attaches a token."""
    response = await client.post(
        "/graphql",
        content=b"query=mutation%20%7Blogout%7Bok%7D%7D",
        headers={"content-type": "application/x-www-form-urlencoded", "authorization": f"Bearer {org_a.admin.token}"},
    )
    assert response.status_code == 400
    assert await Session.filter(id=org_a.admin.session.id, revoked_at__isnull=True).exists()


async def test_batched_arrays_are_refused(client, org_a):
    batch = [{"query": "mutation { logout { ok } }"}, {"query": "{ __typename }"}]
    response = await client.post("/graphql", json=batch, headers={"authorization": f"Bearer {org_a.admin.token}"})
    assert response.status_code == 400, response.text
    assert await Session.filter(id=org_a.admin.session.id, revoked_at__isnull=True).exists()


async def test_body_limit_just_under_and_over(client):
    limit = 256 * 1024

    def body_of(size: int) -> bytes:
        # An undeclared variable is ignored by GraphQL: it only pads the body.
        base = json.dumps({"query": "{ __typename }", "variables": {"x": ""}}).encode()
        padded = json.dumps({"query": "{ __typename }", "variables": {"x": "a" * (size - len(base))}}).encode()
        assert len(padded) == size
        return padded

    ok = await client.post("/graphql", content=body_of(limit), headers={"content-type": "application/json"})
    assert ok.status_code == 200, ok.text[:200]
    assert ok.json()["data"] == {"__typename": "Query"}
    over = await client.post(
        "/graphql", content=body_of(limit + 1), headers={"content-type": "application/json", "x-request-id": "big"}
    )
    assert over.status_code == 413
    assert over.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "requestId": "big"}
    assert over.json()["extensions"] == {"requestId": "big"} and over.headers["x-request-id"] == "big"


async def test_body_limit_when_streamed_without_length(client):
    chunk = b"x" * (64 * 1024)

    async def stream() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"x": "'
        for _ in range(5):
            yield chunk
        yield b'"}}'

    response = await client.post("/graphql", content=stream(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["extensions"]["requestId"] == response.headers["x-request-id"]


# --------------------------------------------------------------------------- document limits


def selection(names: list[str]) -> str:
    return "{ " + " ".join(names) + " }"


async def codes_of(http: httpx.AsyncClient, query: str, variables: dict | None = None, **kw: Any) -> list[str]:
    response = await post(http, query, variables, **kw)
    assert response.status_code == 200, response.text
    return error_codes(response.json())


async def test_characters_limit(client):
    base = "{ __typename }"
    assert await codes_of(client, base + " " * (15_000 - len(base))) == []
    assert await codes_of(client, base + " " * (15_001 - len(base))) == [TOO_COMPLEX]


async def test_token_limit(client):
    # `{ a(b: [` + n numbers + `]) }`: n + 9 tokens, one field (so the selection limit stays out of
    # it; unknown fields: validation answers, not the limit).
    def listing(n: int) -> str:
        return "{ a(b: [" + " 1" * n + " ]) }"

    under = await codes_of(client, listing(1991))
    assert under and TOO_COMPLEX not in under
    assert await codes_of(client, listing(1992)) == [TOO_COMPLEX]
    # Comments are not tokens (the character limit bounds them).
    assert await codes_of(client, "# note\n" * 10 + selection(["__typename"] * 10)) == []


def nested(levels: int) -> str:
    return "{ " + "a { " * (levels - 1) + "b" + " }" * (levels - 1) + " }"


async def test_depth_limit(client):
    under = await codes_of(client, nested(10))
    assert under and TOO_COMPLEX not in under  # only "no such field" validation errors
    assert set(under) == {"BAD_USER_INPUT"}
    assert await codes_of(client, nested(11)) == [TOO_COMPLEX]


async def test_depth_counts_through_fragments(client):
    query = "{ a { ...F } } fragment F on Query { " + "a { " * 9 + "b" + " }" * 9 + " }"
    assert await codes_of(client, query) == [TOO_COMPLEX]


async def test_introspection_subtree_counts_for_depth(client):
    """`__schema`/`__type` are not free: nesting `fields { type { fields ...` past 10 is refused,
    while the `ofType` chains of the standard introspection query do not count."""
    deep = "{ __schema { types" + " { fields { type" * 4 + " { fields { name" + " }" * 12
    assert await codes_of(client, deep) == [TOO_COMPLEX]
    from graphql import get_introspection_query

    assert await codes_of(client, get_introspection_query(descriptions=True)) == []


async def test_alias_limit(client):
    assert await codes_of(client, selection([f"a{i}: __typename" for i in range(15)])) == []
    assert await codes_of(client, selection([f"a{i}: __typename" for i in range(16)])) == [TOO_COMPLEX]


async def test_aliases_count_through_fragments(client):
    fragment = "fragment F on Query { " + " ".join(f"a{i}: __typename" for i in range(8)) + " }"
    assert await codes_of(client, "{ ...F } " + fragment) == []
    assert await codes_of(
        client,
        "{ ...F x: viewer { ...G } } "
        + fragment
        + " fragment G on Viewer { "
        + " ".join(f"b{i}: __typename" for i in range(8))
        + " }",
    ) == [TOO_COMPLEX]


async def test_cost_limit(client):
    # a(first: 99) { b(first: 49) { c } } costs 1 + 99 * (1 + 49) = 4951; plus 49 fields = 5000.
    under = "{ a(first: 99) { b(first: 49) { c } } " + " ".join(f"x{i}" for i in range(49)) + " }"
    codes = await codes_of(client, under)
    assert codes and TOO_COMPLEX not in codes
    over = "{ a(first: 99) { b(first: 49) { c } } " + " ".join(f"x{i}" for i in range(50)) + " }"
    assert await codes_of(client, over) == [TOO_COMPLEX]


async def test_cost_reads_first_from_variables(client):
    query = "query($n: Int) { a(first: $n) { b(first: $n) { c } } }"
    assert TOO_COMPLEX not in await codes_of(client, query, {"n": 10})
    assert await codes_of(client, query, {"n": 100}) == [TOO_COMPLEX]


def logouts(n: int) -> str:
    return "mutation { " + " ".join(f"m{i}: logout {{ ok }}" for i in range(n)) + " }"


async def test_mutation_count_limit(client, org_a):
    token = org_a.admin.token
    refused = await codes_of(client, logouts(11), headers={"authorization": f"Bearer {token}"})
    assert refused == [TOO_COMPLEX]
    assert await Session.filter(id=org_a.admin.session.id, revoked_at__isnull=True).exists()
    allowed = await post(client, logouts(10), headers={"authorization": f"Bearer {token}"})
    assert error_codes(allowed.json()) == []
    assert not await Session.filter(id=org_a.admin.session.id, revoked_at__isnull=True).exists()


LOGIN_FIELD = 'login(input: {{organizationSlug: "clinic-a", username: "admin", password: "{p}"}}) {{ token }}'


async def test_one_authentication_mutation_per_document(client, org_a):
    one = "mutation { a: " + LOGIN_FIELD.format(p=PASSWORD) + " }"
    body = (await post(client, one)).json()
    assert error_codes(body) == [] and body["data"]["a"]["token"]
    before = await AuditEvent.all().count()
    two = "mutation { a: " + LOGIN_FIELD.format(p="wrong-1") + " b: " + LOGIN_FIELD.format(p=PASSWORD) + " }"
    assert await codes_of(client, two) == [TOO_COMPLEX]
    via_fragment = (
        "mutation { ...F } fragment F on Mutation { a: "
        + LOGIN_FIELD.format(p="x")
        + " b: "
        + LOGIN_FIELD.format(p="y")
        + " }"
    )
    assert await codes_of(client, via_fragment) == [TOO_COMPLEX]
    login_and_unlock = "mutation { a: " + LOGIN_FIELD.format(p="x") + ' b: unlockWithPin(input: {pin: "1357"}) { ok } }'
    assert await codes_of(client, login_and_unlock) == [TOO_COMPLEX]
    # No resolver ran: no failed attempt, no session, no audit event.
    assert await LoginAttempt.all().count() == 0
    assert await Session.filter(user_id=org_a.admin.user.id).count() == 2
    assert await AuditEvent.all().count() == before


async def test_refusal_happens_before_any_resolver(client, org_a, monkeypatch):
    import resolvers.auth

    called = []

    async def spy(*args: Any, **kwargs: Any) -> Any:
        called.append(1)
        return []

    monkeypatch.setattr(resolvers.auth, "my_sessions", spy)
    token = org_a.admin.token
    query = "{ " + " ".join(f"s{i}: mySessions {{ id }}" for i in range(16)) + " }"
    assert await codes_of(client, query, headers={"authorization": f"Bearer {token}"}) == [TOO_COMPLEX]
    assert called == []


# --------------------------------------------------------------------------- errors


async def test_unexpected_errors_are_masked_and_logged_without_the_query(client, org_a, monkeypatch, caplog):
    import resolvers.auth

    async def explode(ctx: Any) -> Any:
        raise RuntimeError("SELECT * FROM users WHERE password_hash = 'x'")

    monkeypatch.setattr(resolvers.auth, "my_sessions", explode)
    query = "query SecretOperation { mySessions { id } viewer { user { username } } }"
    with caplog.at_level(logging.INFO):
        response = await post(
            client, query, headers={"authorization": f"Bearer {org_a.admin.token}", "x-request-id": "req-mask-1"}
        )
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == [
        {
            "message": "Internal server error",
            "locations": body["errors"][0]["locations"],
            "path": ["mySessions"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-mask-1"},
        }
    ]
    assert body["extensions"]["requestId"] == "req-mask-1"
    assert "SELECT" not in response.text and "Traceback" not in response.text and "users" not in response.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the masked error is logged"
    formatter = JsonFormatter()
    for record in errors:
        line = formatter.format(record)
        assert "mySessions { id }" not in line and "viewer { user" not in line
        assert record.request_id == "req-mask-1"
    assert any(getattr(r, "document_hash", None) for r in errors)


async def test_database_errors_are_masked(client, org_a, monkeypatch):
    from tortoise.exceptions import IntegrityError

    import resolvers.auth

    async def constraint(ctx: Any) -> Any:
        raise IntegrityError('duplicate key value violates unique constraint "users_pkey"')

    monkeypatch.setattr(resolvers.auth, "my_sessions", constraint)
    response = await post(client, "{ mySessions { id } }", headers={"authorization": f"Bearer {org_a.admin.token}"})
    assert "constraint" not in response.text and "users_pkey" not in response.text
    assert error_codes(response.json()) == ["INTERNAL_SERVER_ERROR"]


async def test_expected_errors_are_not_masked(client, org_a):
    body = (await post(client, "{ viewer { kind } }")).json()
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body["errors"][0]["message"] == "Authentication required."


async def test_bad_variable_is_bad_user_input_not_internal(client, org_a):
    query = "mutation($id: ID!) { revokeSession(id: $id) { ok } }"
    body = (
        await post(client, query, {"id": {"nested": 1}}, headers={"authorization": f"Bearer {org_a.admin.token}"})
    ).json()
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] != "Internal server error"


async def test_at_most_three_validation_errors(client):
    query = selection([f"nope{i}" for i in range(8)])
    for _ in range(2):  # the second answer comes from the validation cache
        response = await post(client, query)
        body = response.json()
        assert error_codes(body) == ["BAD_USER_INPUT"] * 3
        assert body["extensions"]["requestId"]


async def test_syntax_errors_are_bad_user_input(client):
    body = (await post(client, "{ viewer { ")).json()
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_validation_cache_does_not_leak_between_schemas(client, prod):
    """The development schema allows introspection; the production one must not reuse its verdict."""
    query = "{ __schema { queryType { name } } }"
    assert (await post(client, query)).json().get("errors") is None
    refused = (await post(prod, query)).json()
    assert refused["data"] is None and set(error_codes(refused)) == {"BAD_USER_INPUT"}
    assert (await post(client, query)).json().get("errors") is None


# --------------------------------------------------------------------------- production settings


async def test_production_refuses_introspection(prod):
    for query in ("{ __schema { types { name } } }", '{ __type(name: "User") { name } }'):
        body = (await post(prod, query)).json()
        assert body["errors"] and set(error_codes(body)) == {"BAD_USER_INPUT"}
        assert "introspection has been disabled" in body["errors"][0]["message"]
        assert body.get("data") is None
    assert (await post(prod, "{ __typename }")).json()["data"] == {"__typename": "Query"}


async def test_production_has_no_graphiql(prod, client):
    response = await prod.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404 and error_codes(response.json()) == ["NOT_FOUND"]
    dev = await client.get("/graphql", headers={"accept": "text/html"})
    assert dev.status_code == 200 and "graphiql" in dev.text.lower()


async def test_graphiql_page_files_are_all_served(client):
    """Every stylesheet and script the GraphiQL page names (its own, and GraphiQL's and React's pinned
    copies under app/static/vendor/) is served from this server: a moved file would leave the page on
    "Loading..." without any other test noticing outside a browser."""
    page = (await client.get("/graphql", headers={"accept": "text/html"})).text
    files = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert "/static/vendor/graphiql/graphiql.min.js" in files, files
    for path in files:
        response = await client.get(path)
        assert response.status_code == 200 and response.content, path


@pytest.mark.parametrize(
    "query",
    [
        "{ viewr { kind } }",  # a field
        'mutation { login(inpt: {organizationSlug: "a", username: "b", password: "c"}) { token } }',  # an argument
        'mutation { login(input: {organizationSlg: "a", username: "b", password: "c"}) { token } }',  # input field
        "{ viewer { ... on Viewr { kind } } }",  # a type
        "query($x: LoginInpt) { viewer(x: $x) { kind } }",  # a type in a variable
        "{ permissions(where: USERS_RED) { permission } }",
    ],
)
async def test_production_has_no_suggestions(prod, client, query):
    body = (await post(prod, query)).json()
    assert body["errors"] and set(error_codes(body)) == {"BAD_USER_INPUT"}
    assert "Did you mean" not in json.dumps(body)
    dev = (await post(client, query)).json()
    assert dev["errors"]


async def test_introspection_can_be_turned_on_in_production(make_client):
    async with make_client(env="production", introspection=True) as http:
        assert (await post(http, "{ __schema { queryType { name } } }")).json()["data"]


# --------------------------------------------------------------------------- headers, request id, CORS, IP


async def test_security_headers(client):
    response = await post(client, "{ __typename }")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    for path in ("/healthz", "/graphql"):
        assert (await client.get(path)).headers["cache-control"] == "no-store"


async def test_request_id_is_honoured_and_returned(client):
    response = await post(client, "{ __typename }", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json()["extensions"]["requestId"] == "abc-123"


@pytest.mark.parametrize("incoming", ["", "has space", "x" * 65, "<script>", "a;b"])
async def test_malformed_request_id_is_replaced(client, incoming):
    response = await post(client, "{ __typename }", headers={"x-request-id": incoming})
    generated = response.headers["x-request-id"]
    assert generated != incoming and len(generated) == 32
    assert response.json()["extensions"]["requestId"] == generated


async def test_request_id_on_error_responses(client):
    body = (await post(client, "{ nope }", headers={"x-request-id": "r-err"})).json()
    assert body["extensions"]["requestId"] == "r-err"
    body = (await post(client, nested(12), headers={"x-request-id": "r-deep"})).json()
    assert error_codes(body) == [TOO_COMPLEX]
    assert body["extensions"]["requestId"] == "r-deep"


async def test_cors_only_for_configured_origins(make_client):
    async with make_client(cors_origins=("https://app.clinic.example",)) as http:
        preflight = await http.options(
            "/graphql",
            headers={
                "origin": "https://app.clinic.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type, authorization, x-request-id",
            },
        )
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == "https://app.clinic.example"
        assert "POST" in preflight.headers["access-control-allow-methods"]
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
        evil = await http.options(
            "/graphql",
            headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
        )
        assert evil.status_code == 400
        assert "access-control-allow-origin" not in evil.headers
        simple = await post(http, "{ __typename }", headers={"origin": "https://app.clinic.example"})
        assert simple.headers["access-control-allow-origin"] == "https://app.clinic.example"
        assert "x-request-id" in simple.headers.get("access-control-expose-headers", "").lower()
        other = await post(http, "{ __typename }", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_no_cors_without_origins(client):
    response = await post(client, "{ __typename }", headers={"origin": "https://app.clinic.example"})
    assert "access-control-allow-origin" not in response.headers
    preflight = await client.options(
        "/graphql", headers={"origin": "https://app.clinic.example", "access-control-request-method": "POST"}
    )
    assert "access-control-allow-origin" not in preflight.headers


async def test_forwarded_for_only_from_trusted_proxies(make_client, org_a):
    import ipaddress

    from resolvers.credentials import token_hash

    login = "mutation { " + LOGIN_FIELD.format(p=PASSWORD) + " }"

    async def session_ip(http: httpx.AsyncClient, forwarded: str) -> str | None:
        response = await post(http, login, headers={"x-forwarded-for": forwarded})
        token = response.json()["data"]["login"]["token"]
        return (await Session.get(token_hash=token_hash(token))).ip_address

    async with make_client(client_ip="10.0.0.5") as untrusted:
        assert await session_ip(untrusted, "198.51.100.7") == "10.0.0.5"
    proxies = (ipaddress.ip_network("10.0.0.0/8"),)
    async with make_client(client_ip="10.0.0.5", trusted_proxies=proxies) as trusted:
        assert await session_ip(trusted, "6.6.6.6, 198.51.100.7, 10.0.0.9") == "198.51.100.7"
    async with make_client(client_ip="203.0.113.50", trusted_proxies=proxies) as direct:
        assert await session_ip(direct, "198.51.100.7") == "203.0.113.50"


async def test_a_413_carries_cors_headers(make_client):
    async with make_client(cors_origins=("https://app.clinic.example",)) as http:
        response = await http.post(
            "/graphql",
            content=b"x" * (256 * 1024 + 1),
            headers={"content-type": "application/json", "origin": "https://app.clinic.example"},
        )
        assert response.status_code == 413
        assert response.headers["access-control-allow-origin"] == "https://app.clinic.example"
        assert response.headers["x-request-id"] and response.headers["cache-control"] == "no-store"


async def test_concurrent_requests_never_slip_introspection_through(prod):
    import asyncio

    queries = ["{ __schema { queryType { name } } }", "{ __typename }"] * 20
    responses = await asyncio.gather(*(post(prod, q) for q in queries))
    for query, response in zip(queries, responses, strict=True):
        body = response.json()
        if "__schema" in query:
            assert body["data"] is None and set(error_codes(body)) == {"BAD_USER_INPUT"}
        else:
            assert body["data"] == {"__typename": "Query"}


async def test_exponential_fragments_are_refused_quickly(client):
    import time

    lines = ["fragment F0 on Query { __typename }"]
    lines += [f"fragment F{k} on Query {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, 41)]
    started = time.perf_counter()
    codes = await codes_of(client, "{ ...F40 } " + " ".join(lines))
    assert time.perf_counter() - started < 2
    assert codes == [TOO_COMPLEX]


async def test_deeply_nested_braces_are_too_complex(client):
    assert await codes_of(client, "{" + "a { " * 300 + "b" + " }" * 300 + "}") == [TOO_COMPLEX]


async def test_a_connection_without_first_counts_its_default_page(monkeypatch, client):
    """`first` omitted still returns 50 rows: the estimate must multiply by the default page."""
    import schema.limits as limits

    monkeypatch.setattr(limits, "_paged_fields", lambda schema: frozenset({"a"}))
    # a { 100 fields }: 1 + 100 * 50 = 5001 when `a` is paged; 101 if it were not.
    assert await codes_of(client, "{ a { " + " ".join(f"f{i}" for i in range(100)) + " } }") == [TOO_COMPLEX]


@pytest.mark.parametrize(
    "query, variables",
    [
        ("query($x: String) { __typename }", {"x": "a\x00b"}),
        ("query($x: String) { __typename }", {"x": {"deep": [[{"k": "\x00"}]]}}),
        ("query($x: String) { __typename }", {"k\x00": "v"}),
        ('mutation { login(input: {organizationSlug: "a\\u0000b", username: "u", password: "p"}) { token } }', None),
        ("{ __typename }\x00", None),
        ("query($x: String) { __typename }", {"x": "\ud800"}),
        ("{ __typename } # \udfff", None),
    ],
)
async def test_nul_characters_are_refused(client, query, variables):
    """NUL (PostgreSQL text cannot hold it) and lone surrogates (no driver can encode them)."""
    payload = json.dumps({"query": query, "variables": variables or {}}).encode()  # escapes surrogates
    response = await client.post("/graphql", content=payload, headers={"content-type": "application/json"})
    body = response.json()
    assert error_codes(body) == ["BAD_USER_INPUT"] and body.get("data") is None


async def test_an_unstorable_operation_name_is_refused_and_still_logged(client, caplog):
    """graphql-core echoes an unknown operation name in its error: with a lone surrogate in it no
    encoder could write the answer (a 500). It is bad input like the query's text, and its access
    line is still written (the JSON formatter falls back to the standard library's escapes)."""
    payload = json.dumps({"query": "{ __typename }", "operationName": "\ud800"}).encode()
    with caplog.at_level(logging.INFO, logger="tessera.access"):
        response = await client.post(
            "/graphql", content=payload, headers={"content-type": "application/json", "x-request-id": "odd-name"}
        )
    assert response.status_code == 200, response.text[:300]
    assert error_codes(response.json()) == ["BAD_USER_INPUT"]
    lines = [JsonFormatter().format(r) for r in caplog.records if getattr(r, "request_id", None) == "odd-name"]
    assert lines and json.loads(lines[0])["request_id"] == "odd-name"


def test_a_log_line_is_written_whatever_its_values() -> None:
    record = logging.LogRecord("tessera.access", logging.INFO, "", 0, "request", (), None)
    record.operation = "\ud800"
    record.count = 2**70
    entry = json.loads(JsonFormatter().format(record))
    assert entry["operation"] == "\ud800" and entry["count"] == 2**70 and entry["message"] == "request"


@pytest.mark.parametrize("levels", [500, 5000])
async def test_deeply_nested_variables_never_crash(client, levels):
    raw = b'{"query": "{ __typename }", "variables": {"x": ' + b"[" * levels + b'"\\u0000"' + b"]" * levels + b"}}"
    response = await client.post("/graphql", content=raw, headers={"content-type": "application/json"})
    assert response.status_code in (200, 400), response.text[:300]
    if response.status_code == 200:
        assert error_codes(response.json()) == ["BAD_USER_INPUT"]


async def test_at_most_three_variable_errors(client):
    names = range(6)
    query = (
        "query("
        + ", ".join(f"$v{i}: Boolean!" for i in names)
        + ") { "
        + " ".join(f"a{i}: __typename @include(if: $v{i})" for i in names)
        + " }"
    )
    body = (await post(client, query, {f"v{i}": "x" for i in names})).json()
    assert error_codes(body) == ["BAD_USER_INPUT"] * 3 and body["data"] is None


async def test_development_keeps_suggestions(client):
    for query in ("{ viewr { kind } }", "{ viewer { ... on Viewr { kind } } }"):
        assert "Did you mean" in json.dumps((await post(client, query)).json())


async def test_a_forged_forwarded_for_line_is_not_believed(make_client, org_a):
    """Behind a proxy that adds its own X-Forwarded-For line, the client's forged line comes first."""
    import ipaddress

    from resolvers.credentials import token_hash

    login = "mutation { " + LOGIN_FIELD.format(p=PASSWORD) + " }"
    proxies = (ipaddress.ip_network("10.0.0.0/8"),)
    async with make_client(client_ip="10.0.0.5", trusted_proxies=proxies) as http:
        response = await http.post(
            "/graphql",
            json={"query": login},
            headers=[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "198.51.100.7")],
        )
        token = response.json()["data"]["login"]["token"]
        assert (await Session.get(token_hash=token_hash(token))).ip_address == "198.51.100.7"


# --------------------------------------------------------------------------- access log, document cache


async def test_the_access_log_names_request_operation_principal_and_duration(client, org_a, caplog):
    """One JSON line a request: its id, operation name, principal and duration (no query text)."""
    query = "query WhoAmI { viewer { user { username } } }"
    with caplog.at_level(logging.INFO, logger="tessera.access"):
        await post(client, query, headers={"authorization": f"Bearer {org_a.admin.token}", "x-request-id": "log-1"})
        await post(client, "{ __typename }", headers={"x-request-id": "log-2"})
    lines = {
        entry["request_id"]: entry
        for entry in (json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "tessera.access")
    }
    mine = lines["log-1"]
    assert mine["operation"] == "WhoAmI" and mine["principal"] == str(org_a.admin.user.id)
    assert mine["status"] == 200 and mine["path"] == "/graphql" and mine["level"] == "INFO"
    assert isinstance(mine["duration_ms"], int | float) and mine["duration_ms"] >= 0
    assert "viewer" not in json.dumps(mine)
    anonymous = lines["log-2"]
    assert anonymous["principal"] is None and anonymous["operation"] is None


async def test_parsed_documents_are_cached_across_requests(client):
    from schema.limits import parse_document

    query = "query CacheProbe { __typename }"
    await post(client, query)
    before = parse_document.cache_info()
    for _ in range(3):
        assert (await post(client, query)).json()["data"] == {"__typename": "Query"}
    after = parse_document.cache_info()
    assert after.hits - before.hits == 3 and after.misses == before.misses


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", b'"{ __typename }"'),
        ("application/json", b"42"),
        ("application/json", b"null"),
        ("application/json", b"true"),
        ("application/json", b"not json"),
        ("application/json", b'[{"query": "{ __typename }"}]'),
        ("application/json", b'{"query": "{ __typename }", "variables": []}'),
        ("application/json", b"{}"),
        ("text/plain", b'{"query": "{ __typename }"}'),
    ],
)
async def test_a_refused_body_is_a_coded_json_error_never_a_500(client, content_type, body):
    """A body that is not one JSON object with a query (a bare string or number made Strawberry
    answer 500) is a 400 that says so like every other error: JSON, a code and the request id."""
    response = await client.post(
        "/graphql", content=body, headers={"content-type": content_type, "x-request-id": "bad-body"}
    )
    assert response.status_code == 400, response.text
    refused = response.json()
    assert error_codes(refused) == ["BAD_USER_INPUT"] and "data" not in refused
    assert refused["errors"][0]["message"] and refused["extensions"]["requestId"] == "bad-body"
    assert refused["errors"][0]["extensions"]["requestId"] == "bad-body"


async def test_a_get_query_is_a_coded_json_error(client):
    response = await client.get("/graphql", params={"query": "{ __typename }"}, headers={"accept": "application/json"})
    assert response.status_code == 400
    assert error_codes(response.json()) == ["BAD_USER_INPUT"] and "__typename" not in response.text


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("PUT", "/graphql", 405, "BAD_USER_INPUT"),
        ("POST", "/nowhere", 404, "NOT_FOUND"),
        ("GET", "/", 404, "NOT_FOUND"),
    ],
)
async def test_routing_refusals_are_coded_json_errors(client, method, path, status, code):
    """An unknown path is NOT_FOUND (nothing the caller sent was malformed); a wrong method is bad input."""
    response = await client.request(method, path, json={"query": "{ __typename }"}, headers={"x-request-id": "route"})
    assert response.status_code == status
    body = response.json()
    assert error_codes(body) == [code] and body["extensions"]["requestId"] == "route"
    if status == 405:
        assert "POST" in response.headers["allow"]
