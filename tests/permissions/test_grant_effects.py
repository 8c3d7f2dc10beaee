"""Every mutation declares what it does to grants (permissions/classes.py `GrantEffect`), as every
root field has a row in the matrix: a new mutation cannot be added without saying which check it owes."""

from __future__ import annotations

from permissions.classes import EFFECTS_KEY, GrantEffect
from schema.api import build_schema


def _mutations() -> dict[str, frozenset[GrantEffect] | None]:
    mutation = build_schema(True).get_type_by_name("Mutation")
    assert mutation is not None
    return {f.python_name: f.metadata.get(EFFECTS_KEY) for f in mutation.fields}  # type: ignore[union-attr]


def test_every_mutation_declares_its_grant_effects() -> None:
    undeclared = sorted(name for name, effects in _mutations().items() if not effects)
    assert not undeclared, f"mutations with no GrantEffect declared: {undeclared}"


def test_none_is_declared_alone() -> None:
    mixed = sorted(n for n, e in _mutations().items() if e and GrantEffect.NONE in e and len(e) > 1)
    assert not mixed, mixed


def test_the_grant_changing_mutations_are_the_ones_the_design_names() -> None:
    """Pinned, so that changing a declaration is a decision a reviewer sees."""
    changing = {n: e for n, e in _mutations().items() if e and GrantEffect.NONE not in e}
    assert changing == {
        "create_user": {GrantEffect.ADDS},
        "update_user": {GrantEffect.ADDS, GrantEffect.RESTORES, GrantEffect.HANDS_OVER},
        "set_user_active": {GrantEffect.RESTORES},
        "enable_access": {GrantEffect.RESTORES, GrantEffect.HANDS_OVER},
        "send_registration_email": {GrantEffect.HANDS_OVER},
        "create_integration": {GrantEffect.ADDS},
        "update_integration": {GrantEffect.ADDS, GrantEffect.RESTORES},
        "create_api_token": {GrantEffect.HANDS_OVER},
        "reset_credentials": {GrantEffect.HANDS_OVER},
        "create_permission_group": {GrantEffect.ADDS},
        "update_permission_group": {GrantEffect.ADDS},
        "deactivate_provider": {GrantEffect.RESTORES},  # postponing a scheduled date
        "cancel_provider_deactivation": {GrantEffect.RESTORES},
        "reactivate_provider": {GrantEffect.RESTORES},
        "set_location_active": {GrantEffect.RESTORES},  # reactivating gives back what it carried
    }
