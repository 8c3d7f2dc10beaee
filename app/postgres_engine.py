"""Tortoise's asyncpg engine, with a pool whose connections come back without a task each.

Tortoise takes a pool connection per statement, so a request of two statements releases two. asyncpg
releases each inside `asyncio.shield` (a task, a future, a timer re-armed, then a reset coroutine that
checks what the connection holds): 4% of a small query's instructions. `QuickReleasePool` puts a
connection that holds nothing back at once, with asyncpg's own bookkeeping (`_on_release`, the
holder's `_release` and inactivity timer); anything else (an open transaction, a listener, a
connection past its query limit or of an expired generation, one closed or cancelling, a pool
closing or with a reset callback) takes asyncpg's own way. Being synchronous, the quick way cannot be
cut short by a cancellation either, which is what the shield is for.

`NoResetConnection` leaves out asyncpg's reset statements, which this application never needs.
Selected by app/db.py for every PostgreSQL URL; the rest is Tortoise's own client. Both read
asyncpg's internals: `asyncpg` is pinned, and tests/unit/test_db_config.py fails if an upgrade
moves them.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from tortoise.backends.asyncpg.client import AsyncpgDBClient


class NoResetConnection(asyncpg.Connection):
    """A pooled connection released without asyncpg's reset batch (advisory unlock, CLOSE ALL,
    UNLISTEN, RESET ALL): one round trip per statement saved. Safe because nothing here sets session
    state, holds a session-level advisory lock or cursor, or listens; an open transaction is still
    ended on release (asyncpg's own way)."""

    def get_reset_query(self) -> str:
        return ""


class QuickReleasePool(asyncpg.Pool):
    """asyncpg's pool, releasing a connection that holds nothing without a task (module docstring)."""

    __slots__ = ()

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109 (asyncpg's signature)
        if self.quick_release(connection):
            return
        await super().release(connection, timeout=timeout)

    def quick_release(self, connection: Any) -> bool:
        """Put `connection` back as asyncpg's release would, if that would send nothing to the server
        and close nothing; False (nothing done) otherwise."""
        if type(connection) is not PoolConnectionProxy:
            return False
        holder, con = connection._holder, connection._con
        if (
            con is None
            or holder._pool is not self
            or holder._in_use is None
            or self.is_closing()
            or not self._initialized
            or self._reset is not None
            or con.is_closed()
            or con._protocol.queries_count >= holder._max_queries
            or holder._generation != self._generation
            or con._protocol._is_cancelling()
            or con._protocol.is_in_transaction()
            or con._top_xact is not None
            or con._listeners
            or con._log_listeners
            or con.get_reset_query()
        ):
            return False
        con._on_release()
        holder._timeout = None
        holder._release()
        holder._setup_inactive_callback()
        return True


class PostgresClient(AsyncpgDBClient):
    connection_class = NoResetConnection

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        pool = asyncpg.create_pool(None, **kwargs)  # asyncpg's defaults and checks, not yet connected
        pool.__class__ = QuickReleasePool
        return await pool


client_class = PostgresClient
