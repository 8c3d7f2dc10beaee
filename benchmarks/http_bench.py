"""Benchmark over HTTP: the real server (`tessera serve`) against a hand-written "Python floor", query by query.

    make bench
    .venv/bin/python benchmarks/http_bench.py [--reuse] [--requests 2000] [--concurrency 8] [--warmup 50]
                                              [--rounds 3] [--clients 100000] [--queries q1,q2,q3]
                                              [--database NAME] [--profile DIR]

What it does (about four minutes on a 2-core machine; the load takes a quarter of a minute more without --reuse):
1. creates and loads the PostgreSQL database `tessera_bench` with benchmarks/clients_page.py's functions
   (server from TESSERA_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres): one
   organization, two locations, an admin, a front desk user (CLIENTS_READ, USERS_READ... at the first
   location), 20 providers and 100,000 clients; `--reuse` keeps a loaded one and only renews the two sessions;
   `--database NAME` loads another database instead (clients_page.py drops `tessera_bench` when it starts);
2. counts the SQL statements Tessera runs per request for each query and principal: from
   pg_stat_statements when the server preloads it, else in-process with the tests' own counter
   (tests.support.count_statements, the Tortoise debug log) on the same app and settings;
3. starts, on free ports, `tessera serve` (one worker, TESSERA_ENV=production: introspection off, JSON
   logs) and benchmarks/floor_server.py (raw ASGI + asyncpg + orjson under uvicorn, one worker: the same
   rows with hand-written SQL and the same JSON), and checks that both answer the same `data`;
4. for each query and principal: a warm-up of sequential requests on each server, then `--rounds`
   rounds of Tessera and the floor in turn, each `--requests` requests at `--concurrency` from
   benchmarks/load_client.py, a separate process (plain asyncio HTTP/1.1 keep-alive connections),
   while the server's CPU time (utime + stime from /proc/<pid>/stat) is read before and after;
5. prints one row per query and principal, from the round with the median CPU ratio: req/s, p50 and
   p99 latency and CPU milliseconds per request for Tessera and the floor, the CPU ratio Tessera/floor
   with the lowest and highest of the rounds, and SQL statements per request for both. (On a shared
   machine a server's CPU per request moves with the load by a third between runs; rounds taken
   side by side keep the ratio's own spread in view.)
Both servers are stopped at the end, also on error. Their logs go to a temporary directory, printed.

The queries: q1, a page of 50 clients of one location with location and primary provider (as
benchmarks/clients_page.py); q2, one client by id with the same fields (cycling through 50 ids);
q3, 20 staff by last-name prefix (`users(first: 20, filter: {lastName: "Pro"})`: the 20 providers).
CPU per request is the server process's only (not PostgreSQL's, not the client's); on a 2-core machine
the load process, PostgreSQL and the server share the cores, so req/s is a floor of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
import httpx
from tortoise import Tortoise

import benchmarks.clients_page as clients_page
from app.db import migrate, tortoise_config
from app.main import create_app
from app.settings import Settings
from benchmarks.clients_page import QUERY, _pg, _url, create_database, load
from resolvers.credentials import STAFF_SESSION_PREFIX, new_token, token_hash

ROOT = Path(__file__).resolve().parent.parent
CLIENT_FIELDS = "id firstName lastName dateOfBirth mobile location { name } primaryProvider { displayName }"
QUERIES = {
    "q1": ("50 clients of a location", QUERY),
    "q2": ("one client by id", f"query($id: ID!) {{ client(id: $id) {{ {CLIENT_FIELDS} }} }}"),
    "q3": (
        "20 staff by last-name prefix",
        "query($q: String, $first: Int) { users(first: $first, filter: {lastName: $q}) {"
        " edges { node { id firstName lastName username } } } }",
    ),
}
PRINCIPALS = (("admin", "admin"), ("front desk", "frontdesk"))
TICKS = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------- data


async def prepare(args: argparse.Namespace) -> dict:
    """The loaded database (created or reused), fresh session tokens, and the ids the queries use."""
    clients_page.DATABASE = args.database  # create_database() reads it
    url = _url(args.database)
    if await create_database(args.reuse):
        started = time.perf_counter()
        await migrate(url)
        conn = await asyncpg.connect(_pg(url))
        try:
            await load(conn, args.clients)
        finally:
            await conn.close()
        print(f"loaded {args.clients:,} clients in {time.perf_counter() - started:.1f}s (COPY)")
    conn = await asyncpg.connect(_pg(url))
    try:
        tokens = {}
        for name, username in PRINCIPALS:
            token = new_token(STAFF_SESSION_PREFIX)
            await conn.execute(
                "UPDATE sessions SET token_hash = $1, last_seen_at = now(), revoked_at = NULL,"
                " expires_at = now() + interval '12 hours' WHERE user_id = (SELECT id FROM users WHERE username = $2)",
                token_hash(token),
                username,
            )
            tokens[name] = token
        a1 = str(await conn.fetchval("SELECT id FROM locations WHERE name = 'Downtown'"))
        total = await conn.fetchval("SELECT count(*) FROM clients")
        ids = [
            str(r["id"])
            for r in await conn.fetch("SELECT id FROM clients WHERE location_id = $1 ORDER BY id LIMIT 50", a1)
        ]
    finally:
        await conn.close()
    variables = {
        "q1": [{"loc": a1}],
        "q2": [{"id": i} for i in ids],
        "q3": [{"q": "Pro", "first": 20}],
    }
    return {"url": url, "tokens": tokens, "variables": variables, "clients": total}


# --------------------------------------------------------------------------- statements per request


async def pg_stat_statements(conn: asyncpg.Connection) -> bool:
    """Whether pg_stat_statements is preloaded by the server (then created here if missing)."""
    preload = await conn.fetchval("SELECT current_setting('shared_preload_libraries')")
    if "pg_stat_statements" not in preload:
        return False
    await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return True


async def statement_calls(url: str) -> int:
    conn = await asyncpg.connect(_pg(url))
    try:
        return await conn.fetchval(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    finally:
        await conn.close()


async def count_in_process(data: dict, queries: list[str]) -> dict[tuple[str, str], int]:
    """Statements per request, counted in-process by the tests' helper on the same app and settings."""
    from tests.support import count_statements

    url = data["url"]
    settings = Settings(database_url=url, env="production", introspection=False)
    counts = {}
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    try:
        app = create_app(settings, manage_database=False, run_jobs=False)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for q in queries:
                for name, _ in PRINCIPALS:
                    body = {"query": QUERIES[q][1], "variables": data["variables"][q][0]}
                    headers = {"authorization": f"Bearer {data['tokens'][name]}"}
                    await http.post("/graphql", json=body, headers=headers)  # warm: caches, prepared statements
                    with count_statements() as statements:
                        response = await http.post("/graphql", json=body, headers=headers)
                    assert response.status_code == 200 and not response.json().get("errors"), response.text
                    counts[q, name] = len(statements)
    finally:
        await Tortoise.close_connections()
    return counts


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat (fields 14 and 15, after the command name)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Server:
    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int, path: str, logs: Path):
        self.name, self.port, self.path = name, port, path
        self.log = logs / f"{name}.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)

    def url(self, query: str) -> str:
        return f"http://127.0.0.1:{self.port}{self.path.format(query=query)}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not listen on port {self.port} within {timeout}s; see {self.log}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_servers(data: dict, logs: Path, stack: ExitStack) -> tuple[Server, Server]:
    tessera_port, floor_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESSERA_")}
    tessera_env = env | {
        "TESSERA_ENV": "production",
        "TESSERA_INTROSPECTION": "false",
        "TESSERA_DATABASE_URL": data["url"],
        "TESSERA_PUBLIC_URL": f"http://127.0.0.1:{tessera_port}",
    }
    bin_dir = Path(sys.executable).parent
    tessera = Server(
        "tessera",
        [str(bin_dir / "tessera"), "serve", "--host", "127.0.0.1", "--port", str(tessera_port), "--workers", "1"],
        tessera_env,
        tessera_port,
        "/graphql",
        logs,
    )
    stack.callback(tessera.stop)
    floor = Server(
        "floor",
        [sys.executable, str(ROOT / "benchmarks" / "floor_server.py"), "--database-url", data["url"],
         "--port", str(floor_port)],
        env,
        floor_port,
        "/{query}",
        logs,
    )  # fmt: skip
    stack.callback(floor.stop)
    tessera.wait_ready()
    floor.wait_ready()
    return tessera, floor


# --------------------------------------------------------------------------- measuring


def bodies(data: dict, q: str) -> list[str]:
    return [json.dumps({"query": QUERIES[q][1], "variables": v}) for v in data["variables"][q]]


def warm_up(http: httpx.Client, server: Server, q: str, token: str, data: dict, count: int) -> dict:
    """`count` sequential requests; the `data` of the first answer (checked free of errors)."""
    first = None
    texts = bodies(data, q)
    for n in range(max(1, count)):
        response = http.post(
            server.url(q),
            content=texts[n % len(texts)],
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"{server.name} {q}: HTTP {response.status_code}: {response.text[:500]}")
        if first is None:
            first = body["data"]
    assert first is not None
    return first


def floor_statements(floor: Server) -> int:
    return httpx.get(f"http://127.0.0.1:{floor.port}/stats").json()["statements"]


def measure(
    server: Server, q: str, token: str, data: dict, args: argparse.Namespace, profile: Path | None = None
) -> dict:
    """One measurement; with `profile`, py-spy samples the server meanwhile (collapsed stacks there)."""
    job = {
        "host": "127.0.0.1",
        "port": server.port,
        "path": server.url(q).split(str(server.port), 1)[1],
        "bodies": bodies(data, q),
        "headers": {"Authorization": f"Bearer {token}"},
        "requests": args.requests,
        "concurrency": args.concurrency,
    }
    spy = None
    if profile is not None:
        spy = subprocess.Popen(
            [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server.process.pid), "--format",
             "raw", "--rate", "250", "--nonblocking", "--output", str(profile)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1)  # py-spy attaches before the load starts
    cpu_before = cpu_seconds(server.process.pid)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load_client.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=False,
    )
    cpu = cpu_seconds(server.process.pid) - cpu_before
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"load against {server.name} {q} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout)
    latencies = sorted(result["latencies"])
    n = result["requests"]
    return {
        "rps": n / result["wall"],
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(n - 1, int(n * 0.99))] * 1000,
        "cpu": cpu / n * 1000,
    }


def table(rows: list[dict]) -> str:
    head = (
        f"{'query':<31} {'principal':<10} | {'Tessera req/s':>13} {'p50':>6} {'p99':>6} {'CPU/req':>7} {'SQL':>4}"
        f" | {'floor req/s':>11} {'p50':>6} {'p99':>6} {'CPU/req':>7} {'SQL':>4} | {'CPU ratio':>9} {'rounds':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        t, f = r["tessera"], r["floor"]
        lines.append(
            f"{r['query']:<31} {r['principal']:<10} | {t['rps']:13.1f} {t['p50']:6.1f} {t['p99']:6.1f}"
            f" {t['cpu']:7.2f} {r['tessera_sql']:>4} | {f['rps']:11.1f} {f['p50']:6.1f} {f['p99']:6.1f}"
            f" {f['cpu']:7.2f} {r['floor_sql']:>4} | {r['ratio']:8.1f}x {r['spread'][0]:5.1f}-{r['spread'][1]:4.1f}x"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000, help="clients to load (without --reuse)")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per query, principal, server")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=50, help="sequential requests before each measurement")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="Tessera and the floor measured in turn this many times a row; the round with the median CPU"
        " ratio is shown (the ratio moves with the shared machine's load, so it is taken from rounds side by side)",
    )
    parser.add_argument("--queries", default="q1,q2,q3", help="a comma-separated subset of q1,q2,q3")
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument(
        "--database", default=clients_page.DATABASE, help="its name (another keeps clear of a clients_page.py run)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="a folder: py-spy samples Tessera during each measurement (collapsed stacks;"
        " the CPU figures then include py-spy's pauses, so read them from a run without it)",
    )
    args = parser.parse_args()
    queries = [q.strip() for q in args.queries.split(",") if q.strip()]
    if unknown := set(queries) - set(QUERIES):
        parser.error(f"unknown queries: {', '.join(sorted(unknown))}")

    data = asyncio.run(prepare(args))
    pgss = asyncio.run(_pgss(data["url"]))
    counted = {} if pgss else asyncio.run(count_in_process(data, queries))
    sql_source = "pg_stat_statements" if pgss else "in-process (tests.support.count_statements)"
    logs = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    rows = []
    with ExitStack() as stack:
        tessera, floor = start_servers(data, logs, stack)
        print(
            f"tessera serve (pid {tessera.process.pid}, port {tessera.port}) and the floor (pid "
            f"{floor.process.pid}, port {floor.port}), one worker each, over {data['clients']:,} clients;"
            f" {args.requests} requests at concurrency {args.concurrency} after {args.warmup} warm-up; logs in {logs}"
        )
        with httpx.Client(timeout=30) as http:
            for q in queries:
                for name, _ in PRINCIPALS:
                    token = data["tokens"][name]
                    row: dict = {"query": f"{q} {QUERIES[q][0]}", "principal": name}
                    servers = (tessera, floor)
                    answers = {server.name: warm_up(http, server, q, token, data, args.warmup) for server in servers}
                    if answers["tessera"] != answers["floor"]:
                        raise RuntimeError(f"{q} as {name}: the floor's data differs from Tessera's")
                    pairs = []
                    for round_ in range(args.rounds):
                        pair: dict = {}
                        for server in (tessera, floor):
                            sql_before = asyncio.run(statement_calls(data["url"])) if server is tessera and pgss else 0
                            floor_before = floor_statements(floor) if server is floor else 0
                            profile = None
                            if args.profile is not None and server is tessera and round_ == 0:
                                args.profile.mkdir(parents=True, exist_ok=True)
                                profile = args.profile / f"{q}-{name.replace(' ', '-')}.txt"
                            pair[server.name] = measure(server, q, token, data, args, profile)
                            if server is tessera:
                                if pgss:
                                    calls = asyncio.run(statement_calls(data["url"])) - sql_before - 1
                                    row["tessera_sql"] = f"{calls / args.requests:.1f}"
                                else:
                                    row["tessera_sql"] = str(counted[q, name])
                            else:
                                row["floor_sql"] = f"{(floor_statements(floor) - floor_before) / args.requests:.1f}"
                        pair["ratio"] = pair["tessera"]["cpu"] / pair["floor"]["cpu"]
                        pairs.append(pair)
                    # The round with the median ratio stands for the row (its figures belong together);
                    # the spread of the rounds' ratios is shown beside it.
                    pairs.sort(key=lambda p: p["ratio"])
                    row.update(pairs[len(pairs) // 2])
                    row["spread"] = (pairs[0]["ratio"], pairs[-1]["ratio"])
                    rows.append(row)
                    print(
                        f"  {row['query']} as {name}: Tessera {row['tessera']['rps']:.1f} req/s,"
                        f" floor {row['floor']['rps']:.1f} req/s",
                        flush=True,
                    )
    print()
    print(table(rows))
    print(
        f"\nlatencies in ms; CPU/req: ms of server-process CPU (utime+stime) per request; SQL: statements per"
        f" request (Tessera: {sql_source}; floor: its own count); CPU ratio: Tessera/floor, of the round with the"
        f" median ratio (of {args.rounds}), with the rounds' lowest and highest."
    )


async def _pgss(url: str) -> bool:
    conn = await asyncpg.connect(_pg(url))
    try:
        return await pg_stat_statements(conn)
    finally:
        await conn.close()


if __name__ == "__main__":
    main()
