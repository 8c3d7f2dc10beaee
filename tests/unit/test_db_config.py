"""app/db.py: PostgreSQL connections are pooled without asyncpg's per-release reset batch."""

from __future__ import annotations

import asyncpg
import pytest

from app.db import NoResetConnection, tortoise_config
from tests.support import BACKEND, POSTGRES_URL


def test_postgres_pools_no_reset_connections_of_one_to_ten() -> None:
    connection = tortoise_config("postgres://app@db.internal:5432/tessera")["connections"]["default"]
    assert connection["engine"] == "tortoise.backends.asyncpg"
    credentials = connection["credentials"]
    assert credentials["connection_class"] is NoResetConnection
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


@pytest.mark.skipif(BACKEND != "postgres", reason="needs a PostgreSQL server to open a real connection")
async def test_a_released_connection_sends_no_reset_batch() -> None:
    plain = await asyncpg.connect(POSTGRES_URL)
    ours = await asyncpg.connect(POSTGRES_URL, connection_class=NoResetConnection)
    try:
        assert "RESET ALL" in plain.get_reset_query()
        assert ours.get_reset_query() == ""
    finally:
        await plain.close()
        await ours.close()
