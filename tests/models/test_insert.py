"""models/sql.py `insert`: a row written without building the model object is the row `create` writes,
byte for byte as the database holds it, on SQLite and PostgreSQL alike; and what `create` refuses,
it refuses."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from tortoise import connections
from tortoise.exceptions import ValidationError

from models import sql
from models.audit import AuditEvent
from models.enums import ActorKind
from models.organization import Organization

# Not UTC on purpose: SQLite compares datetimes as text, so both must store the same UTC text.
WHEN = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))


def _event(**overrides: Any) -> dict[str, Any]:
    values = {
        "organization_id": uuid.uuid4(),
        "occurred_at": WHEN,
        "actor_kind": ActorKind.USER,
        "actor_id": str(uuid.uuid4()).upper(),  # text, as a caller may hold it: parsed, stored canonical
        "actor_name": "Front Desk — Clinique Évangéline",
        "action": "client.read",
        "target_type": "Client",
        "target_id": None,
        "location_id": uuid.uuid4(),
        "changes": {"clientIds": [str(uuid.uuid4())], "coverageClientIds": [], "note": "é ✓"},
        "ip_address": "2001:db8::1",
        "request_id": "req-1",
    }
    return values | overrides


async def _stored(request_id: str) -> dict[str, Any]:
    """The row as the database holds it (no ORM conversion on the way back), without its key."""
    quote = "?" if sql.dialect() == "sqlite" else "$1"
    rows = await connections.get("default").execute_query_dict(
        f"SELECT * FROM audit_events WHERE request_id = {quote}", [request_id]
    )
    (row,) = rows
    return {k: v for k, v in row.items() if k != "id"} | {"request_id": None}


async def test_a_row_inserted_is_the_row_create_writes(db: Any) -> None:
    for values in (_event(), _event(changes=None, actor_id=None, location_id=None, ip_address=None)):
        await AuditEvent.create(**values | {"request_id": "by-create"})
        await sql.insert(AuditEvent, values | {"request_id": "by-insert"})
        assert await _stored("by-insert") == await _stored("by-create")
        inserted = await AuditEvent.get(request_id="by-insert")
        assert inserted.occurred_at == WHEN
        assert isinstance(inserted.id, uuid.UUID)  # the key's own default
        await AuditEvent.filter(request_id__in=["by-create", "by-insert"]).delete()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"actor_name": "x" * 201}, ValidationError),  # a validator
        ({"actor_id": "not-a-uuid"}, ValueError),  # a conversion
        ({"action": None}, ValueError),  # null where none may be
    ],
)
async def test_what_create_refuses_insert_refuses(db: Any, overrides: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        await AuditEvent.create(**_event(**overrides))
    with pytest.raises(error):
        await sql.insert(AuditEvent, _event(**overrides))
    assert await AuditEvent.filter(request_id="req-1").count() == 0


async def test_what_it_cannot_fill_or_does_not_know_is_refused(db: Any) -> None:
    with pytest.raises(TypeError, match="no field"):
        await sql.insert(AuditEvent, _event(colour="red"))
    with pytest.raises(TypeError, match="filled when an instance is saved"):
        await sql.insert(Organization, {"name": "Clinic"})
