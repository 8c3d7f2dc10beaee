"""The GraphQL endpoint: Strawberry's ASGI view with a per-request context and docs/architecture.md "API
conventions"'s transport rules.

Only POST with application/json executes (no GET queries: PHI must not travel in URLs; no form or
text/plain bodies: CSRF), batching and multipart uploads are off, and GraphiQL is served only when
introspection is on.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from app import graphiql
from app.middleware import http_error_code
from app.persisted import PersistedQueries, PersistedQueryNotFound
from app.settings import Settings
from permissions.errors import ApiErrorCode
from resolvers.authenticate import authenticate
from resolvers.context import RequestContext
from resolvers.credentials import API_TOKEN_PREFIX
from resolvers.loaders import Loaders
from schema.api import build_schema
from schema.budget import uncharged


def bearer_token(request: Request) -> str | None:
    """The token from `Authorization: Bearer ...` only (never from a URL or a cookie)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# What a POST may run (Strawberry's own rule for the method).
_POST_OPERATIONS = frozenset(OperationType.from_http("POST"))


@lru_cache(maxsize=64)
def _is_json(content_type: str) -> bool:
    """Strawberry's test of a body's content type, once per header value (it parses it as a mail
    header, about 25 µs): a bounded cache, since the header is the caller's."""
    return "application/json" in parse_content_type(content_type)[0]


class TesseraGraphQL(GraphQL):
    """Strawberry's ASGI view, with the one request every client sends most answered directly
    (`answer_plain_post`); `plain_posts = False` sends it through Strawberry's view as well, which
    tests/api/test_plain_posts.py compares it with."""

    plain_posts = True

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            build_schema(settings.introspection, settings.compiled_plans),
            graphql_ide="graphiql" if settings.introspection else None,
            allow_queries_via_get=False,
            multipart_uploads_enabled=False,
        )
        self.settings = settings
        self.persisted = PersistedQueries()

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the project's own files, never a CDN (app/graphiql.py)."""
        return graphiql.page()

    def encode_json(self, data: object) -> bytes:
        """orjson: several times faster than the standard library on a page of rows."""
        return orjson.dumps(data)

    async def get_context(self, request: Request, response: Response) -> RequestContext:  # type: ignore[override]
        state = request.state
        ctx = RequestContext(
            settings=self.settings,
            request_id=getattr(state, "request_id", ""),
            ip_address=getattr(state, "client_ip", None),
            user_agent=request.headers.get("user-agent"),
            token=bearer_token(request),
            authenticate=authenticate,
        )
        ctx.loaders = Loaders()
        state.graphql_context = ctx
        return ctx

    async def get_root_value(self, request: Request) -> None:
        return None

    def decode_json(self, data: str | bytes) -> object:
        """JSON nested past Python's recursion limit (a 256 KiB body can nest 100,000 deep) is a
        bad body like any other, not an unhandled exception; so is an integer too long for Python to
        convert (over 4,300 digits: a ValueError, not a JSONDecodeError), and a body that is not an
        object (`"text"`, `42`, `null`: Strawberry would call `.get` on it and answer 500)."""
        try:
            decoded = super().decode_json(data)
        except json.JSONDecodeError:
            raise
        except (RecursionError, ValueError) as error:
            # Strawberry answers a JSONDecodeError with its own 400 "Unable to parse request body".
            reason = "JSON nested too deeply" if isinstance(error, RecursionError) else "JSON not readable"
            raise json.JSONDecodeError(reason, "", 0) from None
        if not isinstance(decoded, dict | list):  # a list is refused as a batch
            raise HTTPException(400, "The request body must be a JSON object.")
        return decoded

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The body, with a persisted query's document in place of its hash (app/persisted.py)."""
        data = await super().parse_http_body(request)
        if isinstance(data, GraphQLRequestData) and request.method == "POST":
            data.query = self.persisted.resolve(data.query, data.extensions, bearer_token(request))
        return data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.plain_posts and scope["type"] == "http" and scope["method"] == "POST":
            request = Request(scope, receive)
            response = await self.answer_plain_post(request)
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def answer_plain_post(self, request: Request) -> Response:
        """A POST of one JSON operation, answered as Strawberry's view answers it (`run` below, then
        its `execute_single`), through the same hooks (`get_sub_response`, `get_context`,
        `get_root_value`, `process_result`, `_handle_errors`, `create_response`) but without the
        steps that do nothing for it: the request adapter, the content-type parse (remembered), the
        dispatch on streams, batches and subscriptions. About a tenth of a small query's CPU.

        Anything else, or any body this does not take as it is (a batch, a field of the wrong type,
        no query, a stream asked for in `Accept`), goes to `run` with the body already read: the
        same answer, from Strawberry's own code. Nothing has run by then but the body's decoding.
        """
        try:
            if not _is_json(request.headers.get("content-type", "")) or self._get_stream_transport_from_headers(
                request.headers
            ):
                return await self.run(request)
            data = self.parse_json(await request.body())
            if not isinstance(data, dict):
                return await self.run(request)
            query, variables, extensions = data.get("query"), data.get("variables"), data.get("extensions")
            if not (
                isinstance(query, str | None)
                and isinstance(variables, dict | None)
                and isinstance(extensions, dict | None)
            ):
                return await self.run(request)
            sent, query = query, self.persisted.resolve(query, extensions, bearer_token(request))
            root_value = await self.get_root_value(request)  # in the order `run` asks them
            sub_response = await self.get_sub_response(request)
            context = await self.get_context(request, sub_response)
            try:
                result = await self.schema.execute(
                    query,
                    variable_values=variables,
                    context_value=context,
                    root_value=root_value,
                    operation_name=data.get("operationName"),
                    allowed_operation_types=_POST_OPERATIONS,
                    operation_extensions=extensions,
                )
            except CannotGetOperationTypeError as error:
                raise HTTPException(400, error.as_http_error_reason()) from error
            except InvalidOperationTypeError as error:
                raise HTTPException(400, error.as_http_error_reason("POST")) from error
            except MissingQueryError as error:
                raise HTTPException(400, "No GraphQL query found in the request") from error
            if not isinstance(result, ExecutionResult):
                # A subscription's stream or an incremental result: the schema has neither.
                raise TypeError(f"unexpected result {type(result).__name__}")
            await self._keep_persisted(request, sent, extensions, context)
            response_data = await self.process_result(request, result)
            if result.errors:
                self._handle_errors(result.errors, response_data)
            return self.create_response(response_data, sub_response)
        except (HTTPException, PersistedQueryNotFound) as error:
            return await self._refusal(request, error)

    async def _refusal(self, request: Request, error: HTTPException | PersistedQueryNotFound) -> JSONResponse:
        """A request refused before its document ran, as JSON with `extensions.code` and the request
        id; to an API token, with its budget too (schema/budget.py `uncharged`: every answer to a
        token shows it). An unknown persisted query answers HTTP 200 with this message: what
        Apollo's clients look for before resending the document."""
        if isinstance(error, HTTPException):
            message, code, status = error.reason, http_error_code(error.status_code), error.status_code
        else:
            message, code, status = "PersistedQueryNotFound", ApiErrorCode.PERSISTED_QUERY_NOT_FOUND.value, 200
        request_id = getattr(request.state, "request_id", None)
        extensions: dict[str, Any] = {"requestId": request_id}
        if (bearer_token(request) or "").startswith(API_TOKEN_PREFIX):
            ctx = getattr(request.state, "graphql_context", None) or await self.get_context(request, Response())
            extensions.update(await uncharged(ctx))
        body = {"errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}]}
        return JSONResponse({**body, "extensions": extensions}, status_code=status)

    async def _keep_persisted(self, request: Request, query: Any, extensions: Any, context: Any) -> None:
        """Store a document sent with its hash (app/persisted.py) once the request has shown its bearer
        token is someone's: a made-up one would otherwise store junk under as many callers as it likes."""
        if not isinstance(query, str) or not isinstance(extensions, dict) or "persistedQuery" not in extensions:
            return
        token = bearer_token(request)
        # The token sent, not one a login within the request opened (`act_as`): that one proves
        # nothing of the header's.
        if isinstance(context, RequestContext) and context.token == token and await context.principal() is not None:
            self.persisted.keep(query, extensions, token)

    async def run(self, request: Request, context: Any = UNSET, root_value: Any = UNSET) -> Response:  # type: ignore[override]
        """A refused request (method, content type, body, batch, persisted query) answers like any
        other error: JSON with `extensions.code` and the request id, not Strawberry's plain-text reason."""
        try:
            response = await super().run(request, context, root_value)
            body = await request.body() if request.method == "POST" else b""
            if b"persistedQuery" in body:  # a document sent with its hash, answered by Strawberry's view
                data = self.decode_json(body)  # read as it was for the answer
                if isinstance(data, dict):
                    ran = getattr(request.state, "graphql_context", None)
                    await self._keep_persisted(request, data.get("query"), data.get("extensions"), ran)
            return response
        except (HTTPException, PersistedQueryNotFound) as error:
            return await self._refusal(request, error)
