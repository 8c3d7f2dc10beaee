"""The Redis client shared by everything that keeps state there (token buckets, login throttle):
one per URL and event loop (a client belongs to the loop it was made on), with short timeouts, so a
Redis that does not answer costs a request half a second, not a hang."""

from __future__ import annotations

import asyncio
from typing import Any

TIMEOUT_SECONDS = 0.5

_clients: dict[tuple[str, int], Any] = {}


def redis_client(url: str) -> Any:
    import redis.asyncio as redis

    key = (url, id(asyncio.get_running_loop()))
    if key not in _clients:
        _clients[key] = redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
    return _clients[key]
