"""The permission matrix: one table `(case, operation, principal, target, expected)` covering every
root Query and Mutation field, run over HTTP against a world of two organizations.

Refused rows assert the code, the absent data, and an unchanged database. Every refusal is recorded
(docs/architecture.md "Audit and PHI access"): a FORBIDDEN row writes exactly one `<operation>.refused` audit event
naming its
principal, a DENIED_INPUT row exactly one (its mutation's own, from `attempt()`), and any other row
none. A test fails when a root field of the schema has no row, or a field that needs a session has no
allowed and no refused row.
"""

from __future__ import annotations

from typing import Any

import pytest

from permissions.classes import PORTAL_KEY, PUBLIC_KEY
from schema.api import build_schema
from tests.permissions.cases import audit as audit_cases
from tests.permissions.cases import auth
from tests.permissions.cases import clients as client_cases
from tests.permissions.cases import groups as group_cases
from tests.permissions.cases import integrations as integration_cases
from tests.permissions.cases import locations as location_cases
from tests.permissions.cases import merges as merge_cases
from tests.permissions.cases import portal as portal_cases
from tests.permissions.cases import providers as provider_cases
from tests.permissions.cases import users as user_cases
from tests.permissions.cases.base import Case
from tests.permissions.cases.expect import (
    DENIED_INPUT,
    FORBIDDEN,
    HIDDEN,
    INVITATION_INVALID,
    LAST_ADMIN,
    NOT_FOUND,
    OK,
    RESET_REQUIRED,
    UNAUTHENTICATED,
)
from tests.permissions.world import World, build_world, check_order, fingerprint, refusal_events
from tests.support import error_codes

# Each domain adds its module here.
MATRIX: list[Case] = [*auth.CASES, *provider_cases.CASES, *client_cases.CASES, *group_cases.CASES, *audit_cases.CASES]
MATRIX += [*location_cases.CASES, *user_cases.CASES, *portal_cases.CASES, *merge_cases.CASES, *integration_cases.CASES]
DOMAINS = (
    auth,
    provider_cases,
    client_cases,
    group_cases,
    audit_cases,
    location_cases,
    user_cases,
    portal_cases,
    merge_cases,
    integration_cases,
)

# The world every row runs in, built in this order: a step may use what the base world and the
# steps before it added (its `needs`). Each domain with rows of its own adds its `WORLD` here.
WORLD = (
    *group_cases.WORLD,
    *audit_cases.WORLD,
    *auth.WORLD,
    *client_cases.WORLD,  # makes provider_a1's profile, which the providers step then completes
    *provider_cases.WORLD,
    *user_cases.WORLD,
    *portal_cases.WORLD,
    *merge_cases.WORLD,
    *integration_cases.WORLD,
)

TOP_LEVEL = {UNAUTHENTICATED, FORBIDDEN, RESET_REQUIRED}
PAYLOAD = {
    NOT_FOUND: "NOT_FOUND",
    DENIED_INPUT: "FORBIDDEN",
    LAST_ADMIN: "LAST_ADMIN",
    INVITATION_INVALID: "INVITATION_INVALID",
}


def _root_field_definitions() -> dict[str, Any]:
    schema = build_schema(True)._schema
    roots = [schema.query_type, schema.mutation_type]
    return {name: f.extensions["strawberry-definition"] for root in roots if root for name, f in root.fields.items()}


def _root_fields() -> set[str]:
    return set(_root_field_definitions())


def _public_fields() -> set[str]:
    """Fields anyone may call (`public(...)` beside the field): allowed rows, no refused principal."""
    return {name for name, field in _root_field_definitions().items() if field.metadata.get(PUBLIC_KEY)}


def _portal_fields() -> set[str]:
    """Fields a portal account may call: the public ones and those marked `portal=True`."""
    marked = {name for name, field in _root_field_definitions().items() if field.metadata.get(PORTAL_KEY)}
    return marked | _public_fields()


# The portal account on every root field: rows written for the fields it may call, and a refused
# row, generated, for every other one (tests/permissions/cases/portal.py).
MATRIX += portal_cases.portal_refused_rows(MATRIX, _portal_fields())
# The API token likewise: a generated row on every field it may not call (cases/integrations.py).
MATRIX += integration_cases.token_rows(MATRIX, _root_field_definitions())


def test_every_root_field_has_a_row_for_the_api_token() -> None:
    """A field a token may call needs rows written for it (what its permissions let it see there)."""
    missing = _root_fields() - {c.operation for c in MATRIX if c.principal == integration_cases.TOKEN}
    assert not missing, f"root fields a token may call with no row for it: {sorted(missing)}"


def test_the_public_fields_are_marked_and_only_they_lack_a_permission_class() -> None:
    """Read from the schema, so a name of a field that does not exist cannot stand here; and a field
    with no permission class that is not marked public (a forgotten `requires`) fails."""
    open_fields = {name for name, field in _root_field_definitions().items() if not field.permission_classes}
    assert (
        _public_fields()
        == open_fields
        == {"login", "acceptStaffInvitation", "portalLogin", "acceptClientInvitation", "portalSignUp"}
    )


def test_the_portal_fields_are_these_and_each_has_a_portal_row() -> None:
    """Pinned: opening a field to portal accounts is a decision a reviewer sees; and every root field
    has a row for the portal account, allowed or refused."""
    assert _portal_fields() - _public_fields() == {"viewer", "logout", "client"}
    missing = _root_fields() - {c.operation for c in MATRIX if c.principal == portal_cases.PORTAL}
    assert not missing, f"root fields with no portal row: {sorted(missing)}"


def test_every_root_field_is_in_the_matrix() -> None:
    covered = {case.operation for case in MATRIX}
    missing = sorted(_root_fields() - covered)
    assert not missing, f"root fields with no row in the permission matrix: {missing}"


def test_every_guarded_field_has_allowed_and_refused_rows() -> None:
    lacking = []
    for field in sorted(_root_fields() - _public_fields()):
        rows = [c for c in MATRIX if c.operation == field]
        if not any(c.expected == OK for c in rows) or not any(c.expected != OK for c in rows):
            lacking.append(field)
    assert not lacking, f"fields needing both an allowed and a refused row: {lacking}"


def test_the_world_is_built_in_its_written_order() -> None:
    """Every domain's steps are in `WORLD` once, and each runs after the steps it needs."""
    check_order(WORLD)
    declared = [step for module in DOMAINS for step in getattr(module, "WORLD", ())]
    assert sorted(s.name for s in WORLD) == sorted(s.name for s in declared)
    assert len(set(WORLD)) == len(WORLD)


def test_a_step_before_what_it_needs_is_refused() -> None:
    with pytest.raises(AssertionError, match="needs"):
        check_order([*group_cases.WORLD][::-1])


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in MATRIX]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def _empty(data: object) -> bool:
    if data is None or data == []:
        return True
    return isinstance(data, dict) and data.get("edges") == []


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.id)
async def test_matrix(case: Case, gql, factory) -> None:
    world = await build_world(factory, WORLD)
    document, variables = case.document(world)
    before = None if case.expected == OK else await fingerprint()
    refusals_before = await refusal_events()
    body = await gql(document, variables, token=world.token(case.principal))
    data = (body.get("data") or {}).get(case.operation)
    codes = error_codes(body)

    if case.expected == OK:
        assert codes == [], body
        assert data is not None, body
        if isinstance(data, dict) and "errors" in data:
            assert data["errors"] == [], body
    elif case.expected in TOP_LEVEL:
        assert codes == [case.expected], body
        assert data is None, body
    elif case.expected in PAYLOAD:
        assert codes == [], body
        assert [e["code"] for e in data["errors"]][:1] == [PAYLOAD[case.expected]], body
        assert all(v in (None, [], False) for k, v in data.items() if k != "errors"), body
    elif case.expected == HIDDEN:
        assert codes == [], body
        assert _empty(data), body
    else:  # pragma: no cover - a typo in a row
        raise AssertionError(f"unknown expectation {case.expected}")

    if before is not None:
        assert await fingerprint() == before, "a refused operation changed the database"
    written = [e for i, e in (await refusal_events()).items() if i not in refusals_before]
    _assert_refusals_recorded(case, world, written)
    if case.check is not None:
        await case.check(world, data) if _is_coro(case.check) else case.check(world, data)


def _assert_refusals_recorded(case: Case, world: World, written: list[dict]) -> None:
    """A top-level FORBIDDEN is recorded once, under the field's own name, with the principal as the
    actor; a FORBIDDEN UserError once too (by `attempt()`, under the mutation's action, never a
    second time under the field's name); nothing else writes a refusal."""
    if case.expected == FORBIDDEN:
        assert [e["action"] for e in written] == [f"{case.operation}.refused"], written
        principal = world.principals[case.principal]
        assert principal is not None and str(written[0]["actor_id"]) == principal.actor_id, written
        assert written[0]["changes"]["paths"] == [case.operation], written
    elif case.expected == DENIED_INPUT:
        assert len(written) == 1, written
        assert written[0]["action"] != f"{case.operation}.refused", written
    else:
        assert written == [], written


def _is_coro(fn: object) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)
