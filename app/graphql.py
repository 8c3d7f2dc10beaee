"""The GraphQL endpoint: Strawberry's ASGI view with a per-request context and DESIGN §5's transport rules.

Only POST with application/json executes (no GET queries: PHI must not travel in URLs; no form or
text/plain bodies: CSRF), batching and multipart uploads are off, and GraphiQL is served only when
introspection is on.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL

from app.settings import Settings
from resolvers.context import RequestContext
from resolvers.sessions import authenticate_staff
from schema.api import build_schema
from schema.loaders import Loaders


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
            build_schema(settings.introspection),
            graphql_ide="graphiql" if settings.introspection else None,
            allow_queries_via_get=False,
            multipart_uploads_enabled=False,
        )
        self.settings = settings

    async def get_context(self, request: Request, response: Response) -> RequestContext:  # type: ignore[override]
        state = request.state
        ctx = RequestContext(
            settings=self.settings,
            request_id=getattr(state, "request_id", ""),
            ip_address=getattr(state, "client_ip", None),
            user_agent=request.headers.get("user-agent"),
            token=bearer_token(request),
            authenticate=authenticate_staff,
        )
        ctx.loaders = Loaders()
        state.graphql_context = ctx
        return ctx

    async def get_root_value(self, request: Request) -> None:
        return None

    def decode_json(self, data: str | bytes) -> object:
        """JSON nested past Python's recursion limit (a 256 KiB body can nest 100,000 deep) is a
        bad body like any other, not an unhandled exception."""
        try:
            return super().decode_json(data)
        except RecursionError:
            # Strawberry answers a JSONDecodeError with its own 400 "Unable to parse request body".
            raise json.JSONDecodeError("JSON nested too deeply", "", 0) from None
