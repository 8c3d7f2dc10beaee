"""The view's direct answer to a plain POST (app/graphql.py `answer_plain_post`) against Strawberry's
own view: every request below is sent twice, once each way, with the same `X-Request-ID`, and must
get the same status, headers and body to the byte, and the same access-log line.

The corpus covers what a client sends (queries with variables, operation names, persisted queries,
tokens good and bad) and what an attacker or a broken client sends (bodies that are not JSON or not
an object, batches, fields of the wrong type, no query, an unknown operation, a subscription, a
stream asked for, other content types, documents over the limits, NUL characters, huge integers).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import httpx
import orjson
import pytest
from strawberry.asgi import GraphQL

from app.graphql import TesseraGraphQL
from app.persisted import PersistedQueries
from tests.factories import Org

REQUEST_ID = "0123456789abcdef0123456789abcdef"
USERS = "query($q: String, $first: Int) { users(first: $first, filter: {lastName: $q}) { edges { node { id } } } }"
VIEWER = "{ viewer { kind organization { slug } } }"
VIEWER_HASH = hashlib.sha256(VIEWER.encode()).hexdigest()
MUTATION = 'mutation { updateLocation(input: {id: "nope", name: "X"}) { location { id } errors { code } } }'
JSON = "application/json"


def _json(**fields: Any) -> bytes:
    return orjson.dumps(fields)


def _apq(digest: str = VIEWER_HASH, version: int = 1, **fields: Any) -> bytes:
    return _json(extensions={"persistedQuery": {"version": version, "sha256Hash": digest}}, **fields)


HUGE = b'{"query": "' + USERS.encode() + b'", "variables": {"first": 1' + b"0" * 5000 + b"}}"

# (name, content type, body, extra headers)
CORPUS: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("query", JSON, _json(query=VIEWER), {}),
    ("variables", JSON, _json(query=USERS, variables={"q": "A", "first": 5}), {}),
    ("charset", "application/json; charset=utf-8", _json(query=VIEWER), {}),
    ("operation name", JSON, _json(query=f"query V {VIEWER}", operationName="V"), {}),
    ("unknown operation", JSON, _json(query=f"query V {VIEWER}", operationName="W"), {}),
    ("two operations, none named", JSON, _json(query=f"query V {VIEWER} query W {VIEWER}"), {}),
    ("operation name not text", JSON, _json(query=VIEWER, operationName=7), {}),
    ("mutation", JSON, _json(query=MUTATION), {}),
    ("subscription", JSON, _json(query="subscription { viewer { kind } }"), {}),
    ("syntax error", JSON, _json(query="{ viewer { kind "), {}),
    ("validation error", JSON, _json(query="{ viewer { nope } }"), {}),
    ("bad variable", JSON, _json(query=USERS, variables={"first": "ten"}), {}),
    ("huge integer", JSON, HUGE, {}),
    ("NUL in the document", JSON, _json(query="{ viewer { kind } }\u0000"), {}),
    ("over the character limit", JSON, _json(query="{ viewer { kind } }" + " " * 20000), {}),
    ("repeated selections", JSON, _json(query="{ " + "viewer { kind } " * 600 + "}"), {}),
    ("no query", JSON, _json(variables={}), {}),
    ("query null", JSON, _json(query=None), {}),
    ("query not text", JSON, _json(query=42), {}),
    ("variables not an object", JSON, _json(query=VIEWER, variables=[1]), {}),
    ("extensions not an object", JSON, _json(query=VIEWER, extensions="x"), {}),
    ("batch", JSON, orjson.dumps([{"query": VIEWER}, {"query": VIEWER}]), {}),
    ("not an object", JSON, b'"text"', {}),
    ("null body", JSON, b"null", {}),
    ("not JSON", JSON, b"{query", {}),
    ("empty body", JSON, b"", {}),
    ("nested too deeply", JSON, b"[" * 100_000 + b"]" * 100_000, {}),
    ("lone surrogate", JSON, b'{"query": "{ viewer { kind } }", "variables": {"q": "\\ud800"}}', {}),
    ("text/plain", "text/plain", _json(query=VIEWER), {}),
    ("form", "application/x-www-form-urlencoded", b"query=%7B%20viewer%20%7B%20kind%20%7D%20%7D", {}),
    ("multipart", "multipart/form-data; boundary=x", b"--x--", {}),
    ("no content type", "", _json(query=VIEWER), {}),
    ("content type in capitals", "Application/JSON", _json(query=VIEWER), {}),
    ("JSON only in a parameter", "text/plain; x=application/json", _json(query=VIEWER), {}),
    ("json-patch", "application/json-patch+json", _json(query=VIEWER), {}),
    ("byte order mark", JSON, b"\xef\xbb\xbf" + _json(query=VIEWER), {}),
    ("UTF-16", JSON, '{"query": "{ viewer { kind } }"}'.encode("utf-16"), {}),
    ("empty query", JSON, _json(query=""), {}),
    ("introspection", JSON, _json(query="{ __schema { queryType { name } } }"), {}),
    ("event stream asked", JSON, _json(query=VIEWER), {"accept": "text/event-stream"}),
    ("multipart asked", JSON, _json(query=VIEWER), {"accept": "multipart/mixed"}),
    ("persisted, unknown hash", JSON, _apq("0" * 64), {}),
    ("persisted, stored", JSON, _apq(query=VIEWER), {}),
    ("persisted, by hash", JSON, _apq(), {}),
    ("persisted, wrong hash", JSON, _apq(query="{ viewer { kind } }"), {}),
    ("persisted, bad version", JSON, _apq(version=2, query=VIEWER), {}),
]


def _view(app: Any) -> TesseraGraphQL:
    return next(route.endpoint for route in app.routes if getattr(route, "path", None) == "/graphql")


class _AccessLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        keep = ("method", "path", "status", "operation", "principal", "client_ip", "request_id")
        self.lines.append({key: getattr(record, key, None) for key in keep})


@pytest.fixture
def access_lines() -> Any:
    handler = _AccessLines()
    logger = logging.getLogger("tessera.access")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


async def _send(client: httpx.AsyncClient, content_type: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    sent = {"x-request-id": REQUEST_ID, **headers}
    if content_type:
        sent["content-type"] = content_type
    return await client.post("/graphql", content=body, headers=sent)


@pytest.mark.parametrize("principal", ["anonymous", "admin", "bad token"])
async def test_a_plain_post_is_answered_as_strawberrys_view_answers_it(
    app: Any, client: httpx.AsyncClient, org_a: Org, principal: str, access_lines: list[dict[str, Any]]
) -> None:
    view = _view(app)
    token = {"anonymous": None, "admin": org_a.admin.token, "bad token": "tss_" + "x" * 40}[principal]
    auth = {"authorization": f"Bearer {token}"} if token else {}
    # Each way its own persisted-query store: the direct way must store and find documents itself.
    stores = {plain: PersistedQueries() for plain in (False, True)}
    try:
        for name, content_type, body, headers in CORPUS:
            answers = []
            for plain in (False, True):
                view.plain_posts, view.persisted = plain, stores[plain]
                access_lines.clear()
                response = await _send(client, content_type, body, {**headers, **auth})
                answers.append(
                    (response.status_code, response.headers.multi_items(), response.content, access_lines[:])
                )
            assert answers[0] == answers[1], name
    finally:
        view.plain_posts = True


async def test_the_corpus_reaches_both_ways_of_answering(app: Any, client: httpx.AsyncClient, org_a: Org) -> None:
    """The corpus is not all refusals: some of it runs, some is refused before it can (else the
    comparison above could pass with the direct answer never taken)."""
    view = _view(app)
    taken: list[str] = []
    original = TesseraGraphQL.run

    async def run(self: TesseraGraphQL, request: Any, *args: Any, **kwargs: Any) -> Any:
        taken.append("strawberry")
        return await original(self, request, *args, **kwargs)

    TesseraGraphQL.run = run  # type: ignore[method-assign]
    try:
        statuses = []
        for name, content_type, body, headers in CORPUS:
            taken.clear()
            response = await _send(
                client, content_type, body, {**headers, "authorization": f"Bearer {org_a.admin.token}"}
            )
            statuses.append((name, response.status_code, bool(taken)))
    finally:
        TesseraGraphQL.run = original  # type: ignore[method-assign]
    direct = {name for name, _, by_strawberry in statuses if not by_strawberry}
    assert {"query", "variables", "charset", "unknown operation", "persisted, by hash", "no query"} <= direct
    assert {"batch", "text/plain", "form", "query not text", "variables not an object"}.isdisjoint(direct)
    assert view.plain_posts


def test_the_view_hooks_the_direct_answer_leaves_out_are_strawberrys_own() -> None:
    """`answer_plain_post` calls the view's hooks a plain POST goes through, except these, which it
    does by itself; an override of one of them (or a new override) must be carried over there."""
    left_out = ("execute_operation", "execute_single", "is_request_allowed", "should_render_graphql_ide")
    assert all(getattr(TesseraGraphQL, name) is getattr(GraphQL, name) for name in left_out)
    overridden = {name for name, value in vars(TesseraGraphQL).items() if callable(value) and hasattr(GraphQL, name)}
    # parse_http_body: its one addition, the persisted query, is resolved by the direct answer too.
    assert overridden == {
        "__init__", "__call__", "render_graphql_ide", "encode_json", "get_context", "get_root_value",
        "decode_json", "parse_http_body", "run",
    }  # fmt: skip
