"""app/db.py and app/postgres_engine.py: PostgreSQL connections are pooled without asyncpg's
per-release reset batch, and come back to the pool without a task when they hold nothing."""

from __future__ import annotations

import asyncpg
import pytest

from app.db import tortoise_config
from app.postgres_engine import NoResetConnection, PostgresClient, QuickReleasePool
from tests.support import BACKEND, POSTGRES_URL

needs_postgres = pytest.mark.skipif(BACKEND != "postgres", reason="needs a PostgreSQL server to open a real connection")


def test_postgres_pools_no_reset_connections_of_one_to_ten() -> None:
    connection = tortoise_config("postgres://app@db.internal:5432/tessera")["connections"]["default"]
    assert connection["engine"] == "app.postgres_engine"
    assert PostgresClient.connection_class is NoResetConnection
    credentials = connection["credentials"]
    assert (credentials["minsize"], credentials["maxsize"]) == ("1", "10")


def test_a_pool_size_given_in_the_url_is_kept() -> None:
    url = "postgres://app@db.internal:5432/tessera?minsize=2&maxsize=20"
    credentials = tortoise_config(url)["connections"]["default"]["credentials"]
    assert (credentials["minsize"], credentials["maxsize"]) == ("2", "20")


def test_sqlite_waits_for_another_writer_rather_than_fail(tmp_path) -> None:
    url = f"sqlite://{tmp_path}/t.sqlite3"
    config = tortoise_config(url)["connections"]["default"]
    assert config["engine"] == "app.sqlite_engine" and config["credentials"]["busy_timeout"] in (5000, "5000")
    given = tortoise_config(url + "?busy_timeout=200")["connections"]["default"]
    assert given["credentials"]["busy_timeout"] in (200, "200")


@needs_postgres
async def test_a_released_connection_sends_no_reset_batch() -> None:
    plain = await asyncpg.connect(POSTGRES_URL)
    ours = await asyncpg.connect(POSTGRES_URL, connection_class=NoResetConnection)
    try:
        assert "RESET ALL" in plain.get_reset_query()
        assert ours.get_reset_query() == ""
    finally:
        await plain.close()
        await ours.close()


async def _engine_pool() -> QuickReleasePool:
    pool = asyncpg.create_pool(POSTGRES_URL, min_size=1, max_size=2, connection_class=NoResetConnection)
    pool.__class__ = QuickReleasePool  # as PostgresClient.create_pool makes it
    return await pool


@needs_postgres
async def test_a_connection_that_holds_nothing_comes_back_at_once_and_works_again() -> None:
    """The quick way is taken (a statement's connection is idle again with no await) and leaves the
    connection as asyncpg's own release would: reusable, with its holder back in the queue. If an
    asyncpg upgrade renamed an internal this reads, this fails rather than every release going
    the slow way unnoticed."""
    pool = await _engine_pool()
    try:
        for _ in range(3):
            connection = await pool.acquire()
            assert await connection.fetchval("SELECT 1") == 1
            assert pool.get_idle_size() == 0
            assert pool.quick_release(connection) is True
            assert pool.get_idle_size() == 1 and pool.get_size() == 1
            with pytest.raises(asyncpg.InterfaceError):  # the proxy is detached, as after asyncpg's release
                await connection.fetchval("SELECT 1")
        async with pool.acquire() as connection:  # released through `release`, as Tortoise does
            assert await connection.fetchval("SELECT 2") == 2
        assert pool.get_idle_size() == 1
    finally:
        await pool.close()


@needs_postgres
async def test_a_connection_in_a_transaction_or_listening_takes_asyncpgs_own_way() -> None:
    """An open transaction must be rolled back and a listener removed: asyncpg's release does both,
    so the quick way declines them."""
    pool = await _engine_pool()
    try:
        connection = await pool.acquire()
        await connection.execute("BEGIN")
        await connection.execute("CREATE TEMP TABLE left_open (id int)")
        assert pool.quick_release(connection) is False
        await pool.release(connection)  # asyncpg's way: ROLLBACK
        async with pool.acquire() as again:
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT to_regclass('pg_temp.left_open')") is None

        connection = await pool.acquire()
        await connection.add_listener("tessera_test", lambda *args: None)
        assert pool.quick_release(connection) is False
        with pytest.warns(asyncpg.InterfaceWarning, match="listener"):  # asyncpg's own complaint
            await pool.release(connection)
        assert pool.get_idle_size() == 1
    finally:
        await pool.close()
