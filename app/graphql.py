"""The GraphQL endpoint: Strawberry's ASGI view with a per-request context and docs/architecture.md "API
conventions"'s transport rules.

Only POST with application/json executes (no GET queries: PHI must not travel in URLs; no form or
text/plain bodies: CSRF), batching and multipart uploads are off, and GraphiQL is served only when
introspection is on.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.types.unset import UNSET

from app import graphiql
from app.middleware import http_error_code
from app.persisted import PersistedQueries, PersistedQueryNotFound
from app.settings import Settings
from permissions.errors import ApiErrorCode
from resolvers.authenticate import authenticate
from resolvers.context import RequestContext
from resolvers.loaders import Loaders
from schema.api import build_schema


def bearer_token(request: Request) -> str | None:
    """The token from `Authorization: Bearer ...` only (never from a URL or a cookie)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class TesseraGraphQL(GraphQL):
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

    async def run(self, request: Request, context: Any = UNSET, root_value: Any = UNSET) -> Response:  # type: ignore[override]
        """A refused request (method, content type, body, batch, persisted query) answers like any
        other error: JSON with `extensions.code` and the request id, not Strawberry's plain-text reason."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as error:
            return _refusal(request, error.reason, http_error_code(error.status_code), error.status_code)
        except PersistedQueryNotFound:
            # HTTP 200 and this message: what Apollo's clients look for before resending the document.
            return _refusal(request, "PersistedQueryNotFound", ApiErrorCode.PERSISTED_QUERY_NOT_FOUND.value, 200)


def _refusal(request: Request, message: str, code: str, status: int) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None)
    return JSONResponse(
        {
            "errors": [{"message": message, "extensions": {"code": code, "requestId": request_id}}],
            "extensions": {"requestId": request_id},
        },
        status_code=status,
    )
