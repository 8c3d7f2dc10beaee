"""The Starlette application: /graphql, /healthz, /readyz, the mail links' pages, middleware, and the ORM's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from tortoise import connections
from tortoise.contrib.starlette import RegisterTortoise

from app import graphiql, invitation_page, metrics
from app.db import tortoise_config
from app.graphql import TesseraGraphQL
from app.middleware import BodyLimitMiddleware, RequestContextMiddleware, http_error_code
from app.pages import routes as page_routes
from app.settings import Settings, get_settings


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own refusals (an unknown path, a method /graphql does not take) in the shape of
    every other error: JSON with a code and the request id, not a plain-text reason."""
    assert isinstance(exc, HTTPException)
    request_id = getattr(request.state, "request_id", None)
    code = http_error_code(exc.status_code)
    return JSONResponse(
        {
            "errors": [{"message": exc.detail, "extensions": {"code": code, "requestId": request_id}}],
            "extensions": {"requestId": request_id},
        },
        status_code=exc.status_code,
        headers=exc.headers,
    )


async def healthz(request: Request) -> JSONResponse:
    """The process is up (no dependency checked)."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers; 503 otherwise, so a load balancer stops sending traffic."""
    try:
        await asyncio.wait_for(connections.get("default").execute_query("SELECT 1"), timeout=2)
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(settings: Settings | None = None, *, manage_database: bool = True, run_jobs: bool = True) -> Starlette:
    """The ASGI app. Tests pass `manage_database=False` and own the ORM (and its transaction)."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_database:
            yield
            return
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            jobs = None
            if run_jobs:
                from app.jobs import run_forever

                jobs = asyncio.create_task(run_forever(settings))
            try:
                yield
            finally:
                if jobs is not None:
                    jobs.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await jobs

    # Outermost first. CORS sits outside the body limit so a 413 still carries the CORS headers
    # (a browser would otherwise hide it behind an opaque network error).
    middleware = [Middleware(RequestContextMiddleware, settings=settings)]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["POST"],
                allow_headers=["authorization", "content-type", "x-request-id"],
                expose_headers=["x-request-id"],
                max_age=600,
            )
        )
    middleware.append(Middleware(BodyLimitMiddleware))
    graphql = TesseraGraphQL(settings)
    metrics.count_statements()
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics.endpoint(settings), methods=["GET"]),
            # GraphiQL's files and the page's own script (app/graphiql.py).
            Mount("/static", app=graphiql.static_files(), name="static"),
            # The pages staff mail links open (/register, /reset-password): app/pages.py.
            *page_routes(settings),
            *invitation_page.routes(settings),
        ],
        middleware=middleware,
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
