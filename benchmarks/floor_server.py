"""The "Python floor" for benchmarks/http_bench.py: the least a Python server does for the benchmark's queries.

    .venv/bin/python benchmarks/floor_server.py --database-url postgres://... [--host H] [--port P]

A raw ASGI callable (no framework) under uvicorn, one worker, the same uvicorn defaults as `tessera serve`
(uvloop and httptools when installed), an asyncpg pool of 1-10 connections like Tessera's, and orjson.
For each request it does, by hand, what the GraphQL query needs and nothing else:

1. authenticate the `Authorization: Bearer` staff session: one statement reads the session, its user and
   the user's grant sources (active sites, permission groups with their locations); the permission's scope
   is computed in Python with Tessera's rule (admin: everywhere; else the user's sites intersected with
   each group's scope, united over the groups holding the permission). The session's `last_seen_at` is
   written when older than a minute, as Tessera does;
2. one statement for the rows, with the relations joined in (`location { name }`,
   `primaryProvider { displayName }`), the same filter, order and scoping as Tessera's;
3. for the client queries, one INSERT into the PHI access log (`audit_events`, action `client.read`,
   the same columns and `changes` as Tessera's).

It answers the same JSON as Tessera (`{"data": ..., "extensions": {"requestId": ...}}`; the benchmark checks
that `data` is equal) at `POST /q1`, `/q2`, `/q3`, taking the same body as `/graphql` (only its
`variables` are read). `GET /stats` returns the number of requests and statements run so far.
Only what the benchmark's principals need is implemented (no CLIENTS_READ_OWN, no idle lock).
"""

from __future__ import annotations

import argparse
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

STAFF_SESSION_PREFIX = "tss_"  # checked against resolvers.credentials at start
TOUCH = timedelta(seconds=60)

AUTH = """
SELECT s.id AS session_id, s.last_seen_at, u.id AS user_id, u.organization_id, u.is_admin, u.all_locations,
       u.first_name, u.last_name,
       ARRAY(SELECT ul.location_id::text FROM user_locations ul JOIN locations l ON l.id = ul.location_id
              WHERE ul.user_id = u.id AND l.is_active) AS sites,
       (SELECT json_agg(json_build_object(
                 'codes', g.permission_codes, 'all', g.all_locations,
                 'locations', ARRAY(SELECT gl.location_id::text FROM group_locations gl WHERE gl.group_id = g.id)))
          FROM group_memberships m JOIN permission_groups g ON g.id = m.group_id
         WHERE m.user_id = u.id)::text AS groups
  FROM sessions s JOIN users u ON u.id = s.user_id
 WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
   AND u.is_active AND (u.expires_at IS NULL OR u.expires_at > $2) AND u.access_status = 'ENABLED'
   AND NOT EXISTS (SELECT 1 FROM providers p WHERE p.user_id = u.id
                    AND (p.status = 'INACTIVE' OR p.deactivate_at <= $2))
"""
TOUCH_SESSION = "UPDATE sessions SET last_seen_at = $2 WHERE id = $1"

CLIENT_COLUMNS = """c.id, c.first_name, c.last_name, c.date_of_birth, c.mobile, l.name AS location_name,
       p.display_name AS provider_name
  FROM clients c JOIN locations l ON l.id = c.location_id LEFT JOIN providers p ON p.id = c.primary_provider_id"""
PAGE = f"""SELECT {CLIENT_COLUMNS}
 WHERE c.organization_id = $1 AND c.status = 'ACTIVE' AND c.location_id = $2 {{scope}}
 ORDER BY c.last_name_key, c.first_name_key, c.id LIMIT 50"""
PAGE_ALL = PAGE.format(scope="")
PAGE_SCOPED = PAGE.format(scope="AND c.location_id = ANY($3::uuid[])")
ONE = f"SELECT {CLIENT_COLUMNS} WHERE c.organization_id = $1 AND c.id = $2 {{scope}}"
ONE_ALL = ONE.format(scope="")
ONE_SCOPED = ONE.format(scope="AND c.location_id = ANY($3::uuid[])")
STAFF = """SELECT u.id, u.first_name, u.last_name, u.username FROM users u
 WHERE u.organization_id = $1 AND u.last_name_key LIKE $2 {scope}
 ORDER BY u.last_name_key, u.first_name, u.id LIMIT $3"""
STAFF_ALL = STAFF.format(scope="")
STAFF_SCOPED = STAFF.format(
    scope="AND (u.id = $4 OR u.all_locations"
    " OR u.id IN (SELECT ul.user_id FROM user_locations ul WHERE ul.location_id = ANY($5::uuid[])))"
)
ACCESS_LOG = """INSERT INTO audit_events (id, organization_id, occurred_at, actor_kind, actor_id, actor_name, action,
  target_type, target_id, location_id, changes, ip_address, request_id)
  VALUES ($1, $2, $3, 'USER', $4, $5, 'client.read', 'Client', $6, NULL, $7::jsonb, $8, $9)"""

ALL = None  # a scope: every location of the organization


class Refused(Exception):
    pass


class Floor:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.pool: asyncpg.Pool | None = None
        self.requests = 0
        self.statements = 0

    # ----------------------------------------------------------------------------- ASGI

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status, payload = await self.handle(scope, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                url = self.database_url.replace("postgres://", "postgresql://", 1)
                self.pool = await asyncpg.create_pool(url, min_size=1, max_size=10)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.pool is not None:
                    await self.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def handle(self, scope: dict, body: bytes) -> tuple[int, bytes]:
        path = scope["path"]
        if scope["method"] == "GET" and path == "/stats":
            return 200, orjson.dumps({"requests": self.requests, "statements": self.statements})
        handler = {"/q1": self.clients_page, "/q2": self.one_client, "/q3": self.staff}.get(path)
        if handler is None or scope["method"] != "POST":
            return 404, b'{"error":"not found"}'
        self.requests += 1
        request_id = uuid.uuid4().hex
        token = ""
        for name, value in scope["headers"]:
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                token = value[7:].decode()
        variables = orjson.loads(body).get("variables") or {}
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            try:
                viewer = await self.authenticate(conn, token)
                data = await handler(conn, viewer, variables, request_id, scope.get("client") or ("", 0))
            except Refused as refused:
                return 200, orjson.dumps({"data": None, "errors": [{"message": str(refused)}]})
        return 200, orjson.dumps({"data": data, "extensions": {"requestId": request_id}})

    # ----------------------------------------------------------------------------- who asks

    async def authenticate(self, conn: asyncpg.Connection, token: str) -> dict:
        if not token.startswith(STAFF_SESSION_PREFIX):
            raise Refused("Not authenticated.")
        now = datetime.now(UTC)
        row = await conn.fetchrow(AUTH, hashlib.sha256(token.encode()).hexdigest(), now)
        self.statements += 1
        if row is None:
            raise Refused("Not authenticated.")
        if now - row["last_seen_at"] > TOUCH:
            await conn.execute(TOUCH_SESSION, row["session_id"], now)
            self.statements += 1
        viewer = dict(row)
        viewer["groups"] = orjson.loads(row["groups"]) if row["groups"] else []
        viewer["now"] = now
        return viewer

    @staticmethod
    def scope(viewer: dict, permission: str) -> frozenset[str] | None:
        """Where the viewer holds `permission` (ALL: everywhere), by Tessera's rule for location permissions."""
        if viewer["is_admin"]:
            return ALL
        sites = ALL if viewer["all_locations"] else frozenset(viewer["sites"])
        held: frozenset[str] | None = frozenset()
        for group in viewer["groups"]:
            if permission not in group["codes"].split(","):
                continue
            group_scope = ALL if group["all"] else frozenset(group["locations"])
            where = group_scope if sites is ALL else sites if group_scope is ALL else sites & group_scope
            held = ALL if held is ALL or where is ALL else held | where
        return held

    def require(self, viewer: dict, permission: str) -> frozenset[str] | None:
        scope = self.scope(viewer, permission)
        if scope is not ALL and not scope:
            raise Refused(f"Needs the {permission} permission.")
        return scope

    # ----------------------------------------------------------------------------- the queries

    @staticmethod
    def _client(row: asyncpg.Record) -> dict:
        return {
            "id": str(row["id"]),
            "firstName": row["first_name"],
            "lastName": row["last_name"],
            "dateOfBirth": row["date_of_birth"],
            "mobile": row["mobile"],
            "location": {"name": row["location_name"]},
            "primaryProvider": None if row["provider_name"] is None else {"displayName": row["provider_name"]},
        }

    async def _log_access(
        self, conn: asyncpg.Connection, viewer: dict, ids: list, target: Any, request_id: str, client: tuple
    ) -> None:
        changes = orjson.dumps({"clientIds": sorted(str(i) for i in ids), "coverageClientIds": []}).decode()
        name = f"{viewer['first_name']} {viewer['last_name']}".strip()
        await conn.execute(
            ACCESS_LOG, uuid.uuid4(), viewer["organization_id"], viewer["now"], viewer["user_id"], name, target,
            changes, client[0], request_id,
        )  # fmt: skip
        self.statements += 1

    async def clients_page(
        self, conn: asyncpg.Connection, viewer: dict, variables: dict, request_id: str, client: tuple
    ) -> dict:
        scope = self.require(viewer, "CLIENTS_READ")
        location = _uuid(variables.get("loc"))
        if location is None or (scope is not ALL and str(location) not in scope):
            rows = []
        elif scope is ALL:
            rows = await conn.fetch(PAGE_ALL, viewer["organization_id"], location)
            self.statements += 1
        else:
            rows = await conn.fetch(PAGE_SCOPED, viewer["organization_id"], location, sorted(scope))
            self.statements += 1
        if rows:
            await self._log_access(conn, viewer, [r["id"] for r in rows], None, request_id, client)
        return {"clients": {"edges": [{"node": self._client(r)} for r in rows]}}

    async def one_client(
        self, conn: asyncpg.Connection, viewer: dict, variables: dict, request_id: str, client: tuple
    ) -> dict:
        scope = self.require(viewer, "CLIENTS_READ")
        client_id = _uuid(variables.get("id"))
        row = None
        if client_id is not None:
            if scope is ALL:
                row = await conn.fetchrow(ONE_ALL, viewer["organization_id"], client_id)
            else:
                row = await conn.fetchrow(ONE_SCOPED, viewer["organization_id"], client_id, sorted(scope))
            self.statements += 1
        if row is not None:
            await self._log_access(conn, viewer, [row["id"]], row["id"], request_id, client)
        return {"client": None if row is None else self._client(row)}

    async def staff(
        self, conn: asyncpg.Connection, viewer: dict, variables: dict, request_id: str, client: tuple
    ) -> dict:
        scope = self.require(viewer, "USERS_READ")
        term = (variables.get("q") or "").strip().lower()
        prefix = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        first = int(variables.get("first") or 20)
        if scope is ALL:
            rows = await conn.fetch(STAFF_ALL, viewer["organization_id"], prefix, first)
        else:
            rows = await conn.fetch(
                STAFF_SCOPED, viewer["organization_id"], prefix, first, viewer["user_id"], sorted(scope)
            )
        self.statements += 1
        edges = [
            {
                "node": {
                    "id": str(r["id"]),
                    "firstName": r["first_name"],
                    "lastName": r["last_name"],
                    "username": r["username"],
                }
            }
            for r in rows
        ]
        return {"users": {"edges": edges}}


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(
        Floor(args.database_url),
        host=args.host,
        port=args.port,
        workers=1,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
