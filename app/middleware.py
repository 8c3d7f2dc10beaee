"""Pure-ASGI middleware: request id and client IP, body limit, security headers, access log."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import secrets
import time
from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.settings import Settings

access_log = logging.getLogger("tessera.access")

MAX_BODY_BYTES = 256 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def http_error_code(status: int) -> str:
    """`extensions.code` of a refusal made before GraphQL runs: an unknown path (or GraphiQL where it is
    off) is NOT_FOUND; anything else the transport refuses (method, content type, body) is bad input."""
    return "NOT_FOUND" if status == 404 else "BAD_USER_INPUT"


def client_ip(peer: str | None, forwarded_for: str | None, trusted: Iterable[ipaddress._BaseNetwork]) -> str | None:
    """The caller's IP: `X-Forwarded-For` counts only when the peer is a trusted proxy, and then the
    right-most address that is not itself a trusted proxy is the client."""
    trusted = tuple(trusted)

    def is_trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        # A dual-stack socket (`--host ::`) shows an IPv4 peer as `::ffff:a.b.c.d`: trusted when either
        # that form or the IPv4 address it carries is listed.
        forms = [ip, mapped] if (mapped := getattr(ip, "ipv4_mapped", None)) else [ip]
        return any(form in net for form in forms for net in trusted)

    if not peer or not forwarded_for or not is_trusted(peer):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not is_trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


class HttpMiddleware:
    """A pure-ASGI middleware that acts on HTTP requests only: anything else (the lifespan events)
    passes straight through to the app, in this one place."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class RequestContextMiddleware(HttpMiddleware):
    """Gives every request an id (an incoming well-formed `X-Request-ID` is honoured) and its client
    IP, adds the security headers, and writes one access-log line with its duration."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        super().__init__(app)
        self.settings = settings

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(16)
        peer = scope.get("client")[0] if scope.get("client") else None
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        # Every X-Forwarded-For line, in order: a proxy that adds its own line (HAProxy does) puts
        # it after any line the client forged, and only the right-most hops are trustworthy.
        forwarded = ", ".join(headers.getlist("x-forwarded-for")) or None
        state["client_ip"] = client_ip(peer, forwarded, self.settings.trusted_proxies)
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = MutableHeaders(scope=message)
                out["x-request-id"] = request_id
                for name, value in SECURITY_HEADERS.items():
                    out.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            ctx = state.get("graphql_context")
            principal = getattr(ctx, "_principal", None) if ctx is not None else None
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    # The path only, never the query string: the pages mail links open carry a
                    # one-time token there (app/pages.py; tests/app/test_pages.py checks).
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "operation": getattr(ctx, "operation_name", None) if ctx is not None else None,
                    "principal": principal.actor_id if principal is not None else None,
                    "client_ip": state.get("client_ip"),
                },
            )


class BodyLimitMiddleware(HttpMiddleware):
    """Answers 413 to a body over the limit, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = Headers(scope=scope).get("content-length")
        request_id = scope.get("state", {}).get("request_id")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _too_large(send, request_id)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not response_started:
                await _too_large(send, request_id)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, request_id: str | None) -> None:
    """413 in the shape of every other error: a code, and the request id (docs/architecture.md "API conventions":
    every response)."""
    body = json.dumps(
        {
            "errors": [
                {
                    "message": "Request body too large (256 KiB at most).",
                    "extensions": {"code": "BAD_USER_INPUT", "requestId": request_id},
                }
            ],
            "extensions": {"requestId": request_id},
        },
        separators=(",", ":"),
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
