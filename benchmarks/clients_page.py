"""Benchmark: a page of 50 clients of one location, with location and primary provider, over 100,000.

    .venv/bin/python benchmarks/clients_page.py [--clients 100000] [--requests 300] [--concurrency 1]

What it does, in a few minutes on a 2-core machine:
1. (re)creates the PostgreSQL database `tessera_bench` (server from TESSERA_BENCH_POSTGRES_URL,
   default postgres://postgres@127.0.0.1:5432/postgres) and runs the project's migrations;
2. makes one organization with two locations, an admin, a front desk user (CLIENTS_READ and
   CLIENTS_MANAGE at the first location), 20 providers, and bulk-loads the clients with COPY
   (asyncpg), half at each location, then ANALYZE;
3. starts the app in-process (httpx.ASGITransport, the real middleware, schema and PHI access log),
   warms up, and measures a bounded number of requests per principal: requests per second and
   p50/p99 latency.
The database is left in place for a second look (`--reuse` skips the load when it is already there).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx
from tortoise import Tortoise

from app.db import migrate, tortoise_config
from app.demo_clinical import FIRST_NAMES, LAST_NAMES, birth_date
from app.main import create_app
from app.settings import Settings
from models.keys import search_key
from resolvers.credentials import STAFF_SESSION_PREFIX, new_token, token_hash

SERVER = os.environ.get("TESSERA_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE = "tessera_bench"
QUERY = """query($loc: ID!) { clients(first: 50, filter: {locationId: $loc}) { edges { node {
  id firstName lastName dateOfBirth mobile location { name } primaryProvider { displayName } } } } }"""


def _url(database: str) -> str:
    return urlunparse(urlparse(SERVER)._replace(path=f"/{database}"))


def _pg(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


async def create_database(reuse: bool) -> bool:
    """Create `tessera_bench` (dropping an old one unless reusing); True when it must be loaded."""
    admin = await asyncpg.connect(_pg(SERVER))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if exists and reuse:
            return False
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
        return True
    finally:
        await admin.close()


async def load(conn: asyncpg.Connection, count: int) -> dict[str, str]:
    """The organization, its staff and providers (plain INSERTs) and `count` clients (COPY)."""
    now = datetime.now(UTC)
    org, a1, a2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await conn.execute(
        "INSERT INTO organizations (id, name, slug, created_at, updated_at)"
        " VALUES ($1, 'Bench clinic', 'bench', $2, $2)",
        org,
        now,
    )
    for loc, name in ((a1, "Downtown"), (a2, "Uptown")):
        await conn.execute(
            "INSERT INTO locations (id, organization_id, name, name_key, timezone, address_country, is_active, version,"
            " created_at, updated_at) VALUES ($1, $2, $3, $4, 'America/Toronto', 'CA', TRUE, 1, $5, $5)",
            loc,
            org,
            name,
            search_key(name),
            now,
        )

    async def user(username: str, *, is_admin: bool, all_locations: bool, kind: str) -> uuid.UUID:
        uid = uuid.uuid4()
        await conn.execute(
            "INSERT INTO users (id, organization_id, username, username_key, first_name, last_name, last_name_key,"
            " type,"
            " language, is_admin, is_active, password_reset_required, access_status, all_locations, version,"
            " created_at, updated_at) VALUES ($1, $2, $3, $3, 'Bench', $4, $5, $6, 'en', $7, TRUE, FALSE, 'ENABLED',"
            " $8, 1, $9, $9)",
            uid,
            org,
            username,
            username.capitalize(),
            search_key(username.capitalize()),
            kind,
            is_admin,
            all_locations,
            now,
        )
        return uid

    tokens: dict[str, str] = {}

    async def session(name: str, uid: uuid.UUID) -> None:
        token = new_token(STAFF_SESSION_PREFIX)
        await conn.execute(
            "INSERT INTO sessions (id, organization_id, user_id, token_hash, created_at, last_seen_at, expires_at,"
            " pin_failures) VALUES ($1, $2, $3, $4, $5, $5, $6, 0)",
            uuid.uuid4(),
            org,
            uid,
            token_hash(token),
            now,
            now + timedelta(hours=12),
        )
        tokens[name] = token

    await session("admin", await user("admin", is_admin=True, all_locations=True, kind="MANAGER"))
    desk = await user("frontdesk", is_admin=False, all_locations=False, kind="FRONT_DESK")
    await conn.execute(
        "INSERT INTO user_locations (id, organization_id, user_id, location_id) VALUES ($1, $2, $3, $4)",
        uuid.uuid4(),
        org,
        desk,
        a1,
    )
    group = uuid.uuid4()
    await conn.execute(
        "INSERT INTO permission_groups (id, organization_id, name, name_key, permission_codes, all_locations, version,"
        " created_at, updated_at) VALUES ($1, $2, 'Front desk', 'front desk',"
        " 'CLIENTS_READ,CLIENTS_MANAGE,PROVIDERS_READ,USERS_READ', TRUE, 1, $3, $3)",
        group,
        org,
        now,
    )
    await conn.execute(
        "INSERT INTO group_memberships (id, organization_id, group_id, user_id) VALUES ($1, $2, $3, $4)",
        uuid.uuid4(),
        org,
        group,
        desk,
    )
    await session("front desk", desk)
    providers = []
    for n in range(20):
        uid = await user(f"provider{n}", is_admin=False, all_locations=True, kind="PROVIDER")
        pid = uuid.uuid4()
        await conn.execute(
            "INSERT INTO providers (id, organization_id, user_id, display_name, display_name_key, billing_role,"
            " messaging_enabled, default_rtm_status, status, version, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, 'BILLING_PROVIDER', TRUE, FALSE, 'ACTIVE', 1, $6, $6)",
            pid,
            org,
            uid,
            f"Dr Provider {n}",
            f"dr provider {n}",
            now,
        )
        providers.append(pid)

    rng = random.Random(7)

    def record(n: int) -> dict[str, Any]:
        """Client `n`'s row, each value beside its column (COPY takes them in one order)."""
        first, last = rng.choice(FIRST_NAMES), f"{rng.choice(LAST_NAMES)}{n % 997}"
        return {
            "id": uuid.uuid4(),
            "organization_id": org,
            "location_id": (a1, a2)[n % 2],
            "primary_provider_id": rng.choice(providers) if rng.random() < 0.9 else None,
            "first_name": first,
            "last_name": last,
            "first_name_key": search_key(first),
            "last_name_key": search_key(last),
            "date_of_birth": birth_date(rng),
            "mobile": f"+1416555{n % 10000:04d}",
            "preferred_language": "en",
            "timezone": "America/Toronto",
            "email_consent": True,
            "mobile_is_primary": True,
            "sms_consent": False,
            "voice_consent": False,
            "phones": "[]",
            "emergency_contacts": "[]",
            "health_card_check": "NOT_CHECKED",
            "status": "ACTIVE",
            "source": "STAFF",
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }

    batch = 20_000
    for start in range(0, count, batch):
        rows = [record(n) for n in range(start, min(count, start + batch))]
        await conn.copy_records_to_table(
            "clients", records=[tuple(row.values()) for row in rows], columns=list(rows[0])
        )
    await conn.execute("ANALYZE")
    return {"a1": str(a1), **tokens}


async def measure(http: httpx.AsyncClient, token: str, location: str, requests: int, concurrency: int) -> dict:
    async def one() -> float:
        started = time.perf_counter()
        response = await http.post(
            "/graphql",
            json={"query": QUERY, "variables": {"loc": location}},
            headers={"authorization": f"Bearer {token}"},
        )
        elapsed = time.perf_counter() - started
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        assert len(body["data"]["clients"]["edges"]) == 50
        return elapsed

    for _ in range(20):  # warm-up: caches, pool connections, JIT-free but import-heavy first calls
        await one()
    latencies: list[float] = []
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            latencies.append(await one())

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded tessera_bench")
    args = parser.parse_args()

    url = _url(DATABASE)
    fresh = await create_database(args.reuse)
    started = time.perf_counter()
    if fresh:
        await migrate(url)
        conn = await asyncpg.connect(_pg(url))
        try:
            ids = await load(conn, args.clients)
        finally:
            await conn.close()
        print(f"loaded {args.clients:,} clients in {time.perf_counter() - started:.1f}s (COPY)")
    else:
        conn = await asyncpg.connect(_pg(url))
        try:
            ids = {"a1": str(await conn.fetchval("SELECT id FROM locations WHERE name = 'Downtown'"))}
            for name, username in (("admin", "admin"), ("front desk", "frontdesk")):
                token = new_token(STAFF_SESSION_PREFIX)
                await conn.execute(
                    "UPDATE sessions SET token_hash = $1, last_seen_at = now(),"
                    " expires_at = now() + interval '12 hours'"
                    " WHERE user_id = (SELECT id FROM users WHERE username = $2)",
                    token_hash(token),
                    username,
                )
                ids[name] = token
        finally:
            await conn.close()

    settings = Settings(database_url=url, env="production", introspection=False)
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    try:
        app = create_app(settings, manage_database=False, run_jobs=False)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            print(
                f"page of 50 clients of one location (of {args.clients:,}) with location and primary provider; "
                f"{args.requests} requests, concurrency {args.concurrency}, one in-process worker:"
            )
            for name in ("admin", "front desk"):
                result = await measure(http, ids[name], ids["a1"], args.requests, args.concurrency)
                print(
                    f"  {name:<11} {result['rps']:7.1f} req/s"
                    f"   p50 {result['p50']:6.1f} ms   p99 {result['p99']:6.1f} ms"
                )
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
