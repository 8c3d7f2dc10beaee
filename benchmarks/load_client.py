"""The load process of benchmarks/http_bench.py: a lean asyncio HTTP/1.1 client in a process of its own.

    .venv/bin/python benchmarks/load_client.py < job.json > result.json

The job (JSON on stdin): {"host", "port", "path", "bodies": [str, ...], "headers": {name: value},
"requests": N, "concurrency": C}. It opens C keep-alive connections, then sends N POST requests, C at a
time (each connection sends its next request when the previous answer is in), cycling through `bodies`,
and fails on the first answer that is not a 200 or that holds GraphQL `errors`. It prints
{"requests", "wall", "latencies"} (seconds). Plain asyncio streams rather than httpx: on a 2-core
machine the client shares the CPU with the server it measures, so it should cost as little as possible.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split()[1])
    length, chunked = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while size := int((await reader.readline()).split(b";")[0], 16):
        body += await reader.readexactly(size)
        await reader.readline()
    await reader.readline()
    return status, body


async def run(job: dict) -> dict:
    host, port = job["host"], job["port"]
    head = f"POST {job['path']} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in job["headers"].items())
    requests = []
    for body in job["bodies"]:
        data = body.encode()
        requests.append(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
    connections = [await asyncio.open_connection(host, port) for _ in range(job["concurrency"])]
    latencies: list[float] = []
    queue = iter(range(job["requests"]))

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for n in queue:
            started = time.perf_counter()
            writer.write(requests[n % len(requests)])
            status, body = await _response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200 or b'"errors"' in body:
                raise RuntimeError(f"{job['path']}: HTTP {status}: {body[:500]!r}")

    started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(r, w) for r, w in connections))
    finally:
        wall = time.perf_counter() - started
        for _, writer in connections:
            writer.close()
    return {"requests": len(latencies), "wall": wall, "latencies": latencies}


def main() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
        result = asyncio.run(run(json.load(sys.stdin)))
    else:
        result = uvloop.run(run(json.load(sys.stdin)))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
