"""models/sql.py `insert`: a row written without building the model object is the row `create` writes,
on SQLite and PostgreSQL alike; and what `create` would refuse, it refuses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from tortoise.exceptions import ValidationError

from models import sql
from models.audit import AuditEvent
from models.enums import ActorKind
from models.organization import Organization

WHEN = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=-5)))


def _event(**overrides: Any) -> dict[str, Any]:
    values = {
        "organization_id": uuid.uuid4(),
        "occurred_at": WHEN,
        "actor_kind": ActorKind.USER,
        "actor_id": uuid.uuid4(),
        "actor_name": "Front Desk — Clinique Évangéline",
        "action": "client.read",
        "target_type": "client",
        "target_id": None,
        "location_id": uuid.uuid4(),
        "changes": {"clientIds": [str(uuid.uuid4())], "coverageClientIds": [], "note": "é ✓"},
        "ip_address": "2001:db8::1",
        "request_id": "req-1",
    }
    return values | overrides


def _columns(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in AuditEvent._meta.fields_map if name != "id"}


async def test_a_row_inserted_is_the_row_create_writes(db: Any) -> None:
    for values in (_event(), _event(changes=None, actor_id=None, location_id=None, ip_address=None)):
        created = await AuditEvent.create(**values)
        await sql.insert(AuditEvent, values | {"request_id": "req-2"})
        inserted = await AuditEvent.get(request_id="req-2")
        stored = await AuditEvent.get(id=created.id)
        assert _columns(inserted) == _columns(stored) | {"request_id": "req-2"}
        assert inserted.occurred_at == WHEN.astimezone(UTC)
        assert isinstance(inserted.id, uuid.UUID) and inserted.id != stored.id  # the pk's own default
        await AuditEvent.filter(request_id="req-2").delete()


async def test_what_create_refuses_insert_refuses(db: Any) -> None:
    with pytest.raises(ValidationError):
        await AuditEvent.create(**_event(actor_name="x" * 201))
    with pytest.raises(ValidationError):
        await sql.insert(AuditEvent, _event(actor_name="x" * 201))
    with pytest.raises(TypeError, match="no field"):
        await sql.insert(AuditEvent, _event(colour="red"))
    with pytest.raises(TypeError, match="is set when an instance is saved"):
        await sql.insert(Organization, {"name": "Clinic"})
    assert await AuditEvent.filter(action="client.read").count() == 0
