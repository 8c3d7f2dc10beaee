"""The audit target type is `AuditTarget` (models/enums.py): written as the enum's spelling, read in
any case, so rows written as "client" before the enum are found by `targetType: "Client"` and shown
as "Client" (docs/architecture.md "Audit and PHI access")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from models.audit import AuditEvent
from models.enums import ActorKind, AuditTarget
from resolvers import audit
from resolvers.audit_query import target_name
from resolvers.context import RequestContext
from tests.factories import audit_event

ROOT = Path(__file__).resolve().parents[2]
QUERY = """query($filter: AuditFilter) {
  auditEvents(filter: $filter) { totalCount edges { node { action targetType } } }
}"""


def codes(body: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


async def stored(org, action: str, target_type: str | None, minutes: int) -> AuditEvent:
    """A row as it was written, spelling and all."""
    return await audit_event(org, action, minutes, actor_kind=ActorKind.SYSTEM, target_type=target_type)


def test_the_old_spellings_read_as_the_enum() -> None:
    assert AuditTarget("client") is AuditTarget.CLIENT
    assert AuditTarget("CLIENT") is AuditTarget.CLIENT
    assert AuditTarget("User") is AuditTarget.USER
    assert AuditTarget("permissiongroup") is AuditTarget.PERMISSION_GROUP
    assert target_name("client") == "Client"
    assert target_name("Something else") == "Something else"  # shown as written, never dropped
    assert target_name(None) is None
    with pytest.raises(ValueError):
        AuditTarget("Clients")


@pytest.mark.parametrize("spelling", ["Client", "client", "CLIENT"])
async def test_filtering_on_client_finds_the_events_stored_as_client(gql, org_a, spelling) -> None:
    await stored(org_a, "client.create", "client", 0)  # as resolvers/clients.py used to write it
    await stored(org_a, "client.update", "Client", 1)
    await stored(org_a, "user.create", "User", 2)
    body = await gql(QUERY, {"filter": {"targetType": spelling}}, token=org_a.admin.token)
    assert codes(body) == [], body
    page = body["data"]["auditEvents"]
    assert page["totalCount"] == 2
    assert [e["node"] for e in page["edges"]] == [
        {"action": "client.update", "targetType": "Client"},
        {"action": "client.create", "targetType": "Client"},
    ]


async def test_an_unknown_target_type_is_bad_input(gql, org_a) -> None:
    body = await gql(QUERY, {"filter": {"targetType": "Banana"}}, token=org_a.admin.token)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "Client" in body["errors"][0]["message"]


async def test_record_writes_the_enum_spelling(org_a, settings) -> None:
    ctx = RequestContext(settings=settings, request_id="test")
    ctx._resolved = True
    await audit.record(ctx, "client.update", target_type=audit.Target.CLIENT, organization_id=org_a.organization.id)
    assert (await AuditEvent.get(request_id="test", action="client.update")).target_type == "Client"


def test_every_call_site_names_an_enum_member() -> None:
    """No `target_type="..."` string in the code that writes the trail."""
    strings = []
    for layer in ("app", "schema", "resolvers"):
        for path in sorted((ROOT / layer).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    for keyword in node.keywords:
                        if keyword.arg == "target_type" and any(
                            isinstance(n, ast.Constant) and isinstance(n.value, str) for n in ast.walk(keyword.value)
                        ):
                            strings.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not strings, strings
