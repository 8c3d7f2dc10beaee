"""Tortoise's SQLite engine, with write transactions that queue (issue 13).

Tortoise opens a transaction with a plain `BEGIN` (deferred): it takes the write lock only at its
first write, and in WAL mode a transaction whose snapshot another process has since written past
fails then and there with "database is locked", whatever the busy timeout. `BEGIN IMMEDIATE` takes
the write lock at the start, where the busy timeout (app/db.py) lets it wait its turn. Selected by
app/db.py for every SQLite URL; everything else is Tortoise's own client.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class = ImmediateSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return ImmediateSqliteClient
